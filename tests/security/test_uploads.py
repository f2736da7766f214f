"""Uploads are read as a stream: past `max_document_bytes` the gateway answers 413
`too_large` while the client is still sending, having held none of it in memory."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tests.security.stack import gateway_stack, huge_request, still_serving

if TYPE_CHECKING:
    import asyncpg
    from temporalio.testing import WorkflowEnvironment

LIMIT = 1 << 20
BODY = 256 << 20  # what the attacker would send: 256 MiB


async def _huge_upload(
    url: str, path: str, auth: str, *, declared: bool
) -> tuple[int, dict[str, Any], int]:
    boundary = "attackboundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        'filename="big.txt"\r\nContent-Type: text/plain\r\n\r\n'
    ).encode()
    return await huge_request(
        url,
        path,
        {"Authorization": auth, "Content-Type": f"multipart/form-data; boundary={boundary}"},
        head,
        BODY,
        declared=declared,
    )


@pytest.mark.slow
async def test_an_oversized_upload_is_refused_while_it_is_read(
    database_dsn: str, pool: asyncpg.Pool, temporal_env: WorkflowEnvironment
) -> None:
    async with (
        gateway_stack(database_dsn, temporal_env.client, max_document_bytes=LIMIT) as stack,
        httpx.AsyncClient(base_url=stack.url) as http,
    ):
        auth = stack.auth("mallory")
        created = await http.post("/api/knowledge-bases", json={"name": "dump"}, headers=auth)
        kb_id = created.json()["knowledgeBaseId"]
        path = f"/api/knowledge-bases/{kb_id}/documents"
        for declared in (False, True):
            (status, body, sent), _ = await asyncio.gather(
                _huge_upload(stack.url, path, auth["Authorization"], declared=declared),
                still_serving(stack),
            )
            assert status == 413 and body["error"]["code"] == "too_large"
            assert sent < BODY // 4  # answered long before the body ended
        # Just under the limit is accepted, streamed into Postgres whole.
        data = bytes(range(256)) * (LIMIT // 256 - 1024)
        accepted = await http.post(
            path, files={"file": ("fits.bin", data, "application/octet-stream")}, headers=auth
        )
        assert accepted.status_code == 202, accepted.text
        stored = await pool.fetchval(
            "SELECT content FROM kb_documents WHERE id = $1", accepted.json()["documentId"]
        )
        assert stored == data
    assert await pool.fetchval("SELECT count(*) FROM kb_documents") == 1


@pytest.mark.slow
async def test_uploads_without_a_file_part_are_bad_requests(
    database_dsn: str, pool: asyncpg.Pool, temporal_env: WorkflowEnvironment
) -> None:
    async with (
        gateway_stack(database_dsn, temporal_env.client) as stack,
        httpx.AsyncClient(base_url=stack.url) as http,
    ):
        auth = stack.auth("mallory")
        created = await http.post("/api/knowledge-bases", json={"name": "k"}, headers=auth)
        path = f"/api/knowledge-bases/{created.json()['knowledgeBaseId']}/documents"
        answers = [
            await http.post(path, content=b"plain", headers={**auth, "Content-Type": "text/plain"}),
            await http.post(
                path, data={"note": "no file"}, files={"other": ("a.txt", b"x")}, headers=auth
            ),
            await http.post(  # httpx would escape the NUL: the body is written by hand
                path,
                content=b'--b\r\nContent-Disposition: form-data; name="file"; '
                b'filename="bad\x00name.txt"\r\n\r\nx\r\n--b--\r\n',
                headers={**auth, "Content-Type": "multipart/form-data; boundary=b"},
            ),
            await http.post(path, files={"file": ("n" * 300 + ".txt", b"x")}, headers=auth),
        ]
        for answer in answers:
            assert answer.status_code == 400, answer.text
            assert answer.json()["error"]["code"] == "bad_request"

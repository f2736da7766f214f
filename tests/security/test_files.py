"""Files: `kb_ingest` reading the worker's secrets (/proc/self/environ), escaping the import
root (`..`, symlinks), reading devices (/dev/zero) or FIFOs, or more than the byte limit.
Only a regular file under the operator's import root is read, and never more than the limit;
the secret reaches no event and no search result."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import pytest

from tests.security.conftest import node_failure

if TYPE_CHECKING:
    from flowmaestro.events.outbox import StoredEvent
    from tests.security.conftest import Stack


def ingest(path: str, file_name: str = "loot.txt") -> dict[str, Any]:
    return {
        "name": "ingest",
        "nodes": [
            {
                "id": "read",
                "type": "kb_ingest",
                "config": {"knowledge_base_name": "loot", "path": path, "file_name": file_name},
            },
            {
                "id": "search",
                "type": "agent",
                "after": ["read"],
                "config": {
                    "prompt": "find it",
                    "tools": ["kb_search"],
                    "knowledge_base_id": "{{ nodes.read.knowledgeBaseId }}",
                    "script": [
                        {"call": [{"tool": "kb_search", "arguments": {"query": "JWT_SECRET"}}]},
                        {"say": "{0}"},
                    ],
                },
            },
        ],
    }


def refused(events: list[StoredEvent], type: str) -> None:
    failure = node_failure(events, "read")
    assert failure["error"]["type"] == type, failure
    assert (failure["attempt"], failure["willRetry"]) == (1, False)
    assert events[-1].type == "execution:failed"
    assert not any(e.type == "agent:tool_call" for e in events)


@pytest.fixture(scope="module")
def planted(stack: Stack) -> dict[str, str]:
    """What an attacker would try inside the import root (the operator's directory)."""
    root = stack.import_root
    (root / "handbook.txt").write_text("Refunds take five days.")
    (root / "big.txt").write_bytes(b"x" * (stack.limits.max_document_bytes + 1))
    os.symlink("/proc/self/environ", root / "environ.txt")
    os.symlink("/dev/zero", root / "zero.txt")
    (root / "sub").mkdir()
    os.symlink(root.parent, root / "sub" / "up")
    os.mkfifo(root / "pipe.txt")
    (root / "cycle.pdf").write_bytes(_cyclic_pdf())
    return {"root": str(root)}


def _cyclic_pdf() -> bytes:
    """A PDF whose page tree contains itself (pypdf refuses it with its own error)."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [2 0 R] /Count 1 >>"]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 3\n0000000000 65535 f \n"
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Root 1 0 R /Size 3 >>\nstartxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


async def test_a_pdf_the_library_refuses_fails_once_with_its_node_failed(
    stack: Stack, planted: dict[str, str]
) -> None:
    events = await stack.during(stack.run("mallory", ingest("cycle.pdf", "cycle.pdf")))
    refused(events, "unreadable_pdf")
    assert any(e.type == "kb:upload_failed" for e in events)


ESCAPES = {
    "/proc/self/environ": "file_refused",
    "../../../../proc/self/environ": "file_refused",
    "environ.txt": "file_refused",
    "zero.txt": "file_refused",
    "/dev/zero": "file_refused",
    "sub/up/secret.txt": "file_refused",
    "pipe.txt": "file_refused",
    "big.txt": "too_large",
    "missing.txt": "file_unreadable",
}


@pytest.mark.parametrize("path", sorted(ESCAPES))
async def test_a_file_outside_the_rules_is_refused(
    stack: Stack, planted: dict[str, str], path: str
) -> None:
    events = await stack.during(stack.run("mallory", ingest(path)))
    refused(events, ESCAPES[path])


async def test_a_file_under_the_import_root_is_ingested_and_searched(
    stack: Stack, planted: dict[str, str]
) -> None:
    events = await stack.during(stack.run("mallory", ingest("handbook.txt")))
    assert events[-1].type == "execution:completed", [e.type for e in events]
    calls = [e.envelope["data"] for e in events if e.type == "agent:tool_call"]
    assert calls[-1]["status"] == "completed"
    assert "five days" in str(calls[-1]["result"])

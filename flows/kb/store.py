"""Knowledge bases, documents and chunks in Postgres."""

from __future__ import annotations

import hashlib
import struct
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flowmaestro.flows.kb.errors import KbError

if TYPE_CHECKING:
    from collections.abc import AsyncIterable, AsyncIterator, Sequence

    import asyncpg

    from flowmaestro.events.catalogue.common import ErrorInfo
    from flowmaestro.events.outbox.connection import Connection
    from flowmaestro.flows.messages import Visibility


@dataclass(frozen=True, slots=True)
class KnowledgeBase:
    id: str
    owner_id: str
    name: str
    embedding_model: str
    chunk_size: int
    chunk_overlap: int


@dataclass(frozen=True, slots=True)
class Document:
    id: str
    knowledge_base_id: str
    file_name: str
    file_size: int


# Derived ids (a named knowledge base, a node's document); the value is what earlier
# versions used, so existing ids stay the same.
_ID_NAMESPACE = uuid.UUID("0b8f8a3e-5d1c-4a55-9e8c-2f8d7c1b6a40")


def new_knowledge_base_id() -> str:
    return "kb_" + uuid.uuid4().hex


def new_document_id() -> str:
    return "doc_" + uuid.uuid4().hex


async def create_knowledge_base(
    pool: asyncpg.Pool,
    *,
    owner_id: str,
    name: str,
    embedding_model: str = "hash-384",
    chunk_size: int = 800,
    chunk_overlap: int = 100,
    workspace: str | None = None,
    visibility: Visibility = "private",
) -> KnowledgeBase:
    """A new knowledge base of `owner_id` in `workspace` (docs/teams.md), under an id the
    server chose."""
    return await _insert_knowledge_base(
        pool,
        new_knowledge_base_id(),
        owner_id=owner_id,
        name=name,
        embedding_model=embedding_model,
        chunk_size=chunk_size,
        chunk_overlap=chunk_overlap,
        workspace=workspace,
        visibility=visibility,
    )


def named_knowledge_base_id(owner_id: str, name: str) -> str:
    """The id of `owner_id`'s knowledge base called `name`. The owner is escaped so that no
    other (owner, name) pair derives the same text (as "a/b" + "c" and "a" + "b/c" would)."""
    owner = owner_id.replace("%", "%25").replace("/", "%2F")
    return "kb_" + uuid.uuid5(_ID_NAMESPACE, f"{owner}/{name}").hex


async def named_knowledge_base(
    pool: asyncpg.Pool, *, owner_id: str, name: str, embedding_model: str = "hash-384"
) -> KnowledgeBase:
    """`owner_id`'s knowledge base called `name`, created on first use. Its id is derived from
    both and nobody can create a knowledge base under an id of their choosing, so no other
    user can take it first."""
    return await _insert_knowledge_base(
        pool,
        named_knowledge_base_id(owner_id, name),
        owner_id=owner_id,
        name=name,
        embedding_model=embedding_model,
        chunk_size=800,
        chunk_overlap=100,
    )


def content_document_id(kb_id: str, file_name: str, content: bytes) -> str:
    """The document a flow ingests: one per file (name and bytes) in a knowledge base."""
    digest = hashlib.sha256(content).hexdigest()
    return "doc_" + uuid.uuid5(_ID_NAMESPACE, f"{kb_id}/{file_name}/{digest}").hex


async def _insert_knowledge_base(
    pool: asyncpg.Pool,
    kb_id: str,
    *,
    owner_id: str,
    name: str,
    embedding_model: str,
    chunk_size: int,
    chunk_overlap: int,
    workspace: str | None = None,
    visibility: Visibility = "private",
) -> KnowledgeBase:
    if not 0 <= chunk_overlap < chunk_size:
        raise ValueError("need 0 <= chunk_overlap < chunk_size")
    await pool.execute(
        "INSERT INTO knowledge_bases (id, owner_id, name, embedding_model, chunk_size,"
        " chunk_overlap, workspace_id, visibility)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING",
        kb_id,
        owner_id,
        name,
        embedding_model,
        chunk_size,
        chunk_overlap,
        workspace,
        visibility,
    )
    return await load_knowledge_base(pool, kb_id, owner_id)


async def load_knowledge_base(pool: asyncpg.Pool, kb_id: str, owner_id: str) -> KnowledgeBase:
    """The knowledge base `kb_id`, if `owner_id` owns it (otherwise it does not exist for them)."""
    row = await pool.fetchrow(
        "SELECT id, owner_id, name, embedding_model, chunk_size, chunk_overlap"
        " FROM knowledge_bases WHERE id = $1 AND owner_id = $2",
        kb_id,
        owner_id,
    )
    if row is None:
        raise KbError(
            f"no knowledge base {kb_id!r} for user {owner_id!r}",
            step="extraction",
            type="not_found",
        )
    return KnowledgeBase(**dict(row))


async def create_document(
    pool: asyncpg.Pool,
    kb: KnowledgeBase,
    *,
    file_name: str,
    content: bytes | None,
    file_size: int,
    document_id: str | None = None,
) -> Document:
    """Record an upload; `content` None when it was refused for its size. Idempotent by id,
    within `kb`: an id already recorded in another knowledge base is KbError."""
    document_id = document_id or new_document_id()
    recorded = await pool.fetchval(
        "INSERT INTO kb_documents (id, knowledge_base_id, file_name, file_size, content)"
        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO UPDATE SET id = EXCLUDED.id"
        " WHERE kb_documents.knowledge_base_id = EXCLUDED.knowledge_base_id RETURNING 1",
        document_id,
        kb.id,
        file_name,
        file_size,
        content,
    )
    if recorded is None:
        raise KbError(
            f"document {document_id} belongs to another knowledge base",
            step="extraction",
            type="document_exists",
        )
    return Document(document_id, kb.id, file_name, file_size)


@dataclass(frozen=True, slots=True)
class Content:
    """A document's bytes as a stream: exactly `size` bytes from `chunks`."""

    size: int
    chunks: AsyncIterable[bytes]

    @classmethod
    def of(cls, data: bytes) -> Content:
        async def once() -> AsyncIterator[bytes]:
            yield data

        return cls(len(data), once())


# PostgreSQL's binary COPY format: signature, flags, header extension length.
_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0)
_COPY_TRAILER = struct.pack("!h", -1)


async def copy_document(
    pool: asyncpg.Pool, kb: KnowledgeBase, *, file_name: str, content: Content, refused: bool
) -> Document:
    """Record an upload under a new id, its bytes streamed into Postgres with COPY, so no
    process holds the whole file. `refused` (too large) records it without its bytes, and
    extraction then fails visibly."""
    document_id = new_document_id()
    await _copy_row(pool, document_id, kb.id, file_name, content.size, None if refused else content)
    return Document(document_id, kb.id, file_name, content.size)


async def _copy_row(
    pool: asyncpg.Pool,
    document_id: str,
    kb_id: str,
    file_name: str,
    file_size: int,
    content: Content | None,
) -> None:
    async def rows() -> AsyncIterator[bytes]:
        head = bytearray(_COPY_HEADER)
        head += struct.pack("!h", 5)
        for text in (document_id, kb_id, file_name):
            data = text.encode()
            head += struct.pack("!i", len(data)) + data
        head += struct.pack("!iq", 8, file_size)
        if content is None:
            yield bytes(head + struct.pack("!i", -1) + _COPY_TRAILER)
            return
        yield bytes(head + struct.pack("!i", content.size))
        sent = 0
        async for chunk in content.chunks:
            sent += len(chunk)
            if sent > content.size:
                break
            yield chunk
        if sent != content.size:
            # A short or long stream would corrupt the row: fail the COPY instead.
            raise KbError(
                f"upload of {file_name!r} was {sent} bytes, not {content.size}",
                step="extraction",
                type="upload_truncated",
            )
        yield _COPY_TRAILER

    async with pool.acquire() as con:
        await con.copy_to_table(
            "kb_documents",
            source=rows(),
            columns=["id", "knowledge_base_id", "file_name", "file_size", "content"],
            format="binary",
        )


async def load_content(pool: asyncpg.Pool, document_id: str) -> bytes | None:
    content: bytes | None = await pool.fetchval(
        "SELECT content FROM kb_documents WHERE id = $1", document_id
    )
    return content


async def save_text(pool: asyncpg.Pool, document_id: str, text: str) -> None:
    await pool.execute(
        "UPDATE kb_documents SET text = $2, status = 'processing', updated_at = now() WHERE id = $1",
        document_id,
        text,
    )


async def load_text(pool: asyncpg.Pool, document_id: str) -> str:
    text: str | None = await pool.fetchval(
        "SELECT text FROM kb_documents WHERE id = $1", document_id
    )
    if text is None:
        raise KbError(
            f"document {document_id} has no extracted text", step="chunking", type="not_extracted"
        )
    return text


async def replace_chunks(pool: asyncpg.Pool, doc: Document, chunks: Sequence[str]) -> None:
    """The document's chunks become `chunks` (a retried step starts from scratch)."""
    async with pool.acquire() as con, con.transaction():
        await con.execute("DELETE FROM kb_chunks WHERE document_id = $1", doc.id)
        await con.copy_records_to_table(
            "kb_chunks",
            records=[(doc.id, i, doc.knowledge_base_id, c) for i, c in enumerate(chunks)],
            columns=["document_id", "chunk_index", "knowledge_base_id", "content"],
        )


async def unembedded_chunks(
    pool: asyncpg.Pool, document_id: str, limit: int
) -> list[tuple[int, str]]:
    rows = await pool.fetch(
        "SELECT chunk_index, content FROM kb_chunks WHERE document_id = $1 AND embedding IS NULL"
        " ORDER BY chunk_index LIMIT $2",
        document_id,
        limit,
    )
    return [(r["chunk_index"], r["content"]) for r in rows]


async def save_embeddings(
    pool: asyncpg.Pool, document_id: str, indexes: Sequence[int], vectors: Sequence[list[float]]
) -> None:
    async with pool.acquire() as con, con.transaction():
        await con.executemany(
            "UPDATE kb_chunks SET embedding = $3 WHERE document_id = $1 AND chunk_index = $2",
            [(document_id, i, v) for i, v in zip(indexes, vectors, strict=True)],
        )


async def chunk_counts(pool: asyncpg.Pool, document_id: str) -> tuple[int, int]:
    """(chunks stored, chunks with an embedding) of the document."""
    row = await pool.fetchrow(
        "SELECT count(*) AS chunks, count(embedding) AS embedded FROM kb_chunks WHERE document_id = $1",
        document_id,
    )
    assert row is not None
    return int(row["chunks"]), int(row["embedded"])


async def set_status(
    con: Connection, document_id: str, status: str, error: ErrorInfo | None = None
) -> None:
    """Set the document's status, in the caller's transaction (the one writing its event)."""
    await con.execute(
        "UPDATE kb_documents SET status = $2, error = $3::jsonb, updated_at = now() WHERE id = $1",
        document_id,
        status,
        error.model_dump_json() if error is not None else None,
    )

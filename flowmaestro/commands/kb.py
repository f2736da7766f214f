"""`flowmaestro kb create|ingest`: knowledge bases from the command line."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import asyncpg
import click
from temporalio.client import WorkflowFailureError

from flowmaestro.database import create_pool, resolve_dsn
from flowmaestro.errors import FlowMaestroError
from flowmaestro.events.outbox import OutboxReader
from flowmaestro.flows.kb import store
from flowmaestro.flows.kb.start import (
    KnowledgeBaseNotFoundError,
    ingest_document,
)
from flowmaestro.flows.kb.store import Content
from flowmaestro.runtime import run_async, settings_of
from flowmaestro.temporal_connection import connect_temporal
from flowmaestro.wording import plural


@click.group("kb")
def kb_command() -> None:
    """Create knowledge bases and ingest documents into them."""


@kb_command.command("create")
@click.argument("name")
@click.option("--user", "user_id", required=True, help="the knowledge base's owner (user id)")
@click.option("--embedding-model", help="hash-N (offline) or a model of the configured endpoint")
@click.option("--chunk-size", default=800, show_default=True, type=click.IntRange(50))
@click.option("--chunk-overlap", default=100, show_default=True, type=click.IntRange(0))
@click.pass_context
def create_command(
    ctx: click.Context,
    name: str,
    user_id: str,
    embedding_model: str | None,
    chunk_size: int,
    chunk_overlap: int,
) -> None:
    """Create a knowledge base called NAME and print its id."""
    settings = settings_of(ctx)
    if chunk_overlap >= chunk_size:
        raise click.BadParameter("must be below --chunk-size", param_hint="--chunk-overlap")

    async def main() -> str:
        async with await create_pool(resolve_dsn(settings), max_size=1) as pool:
            kb = await store.create_knowledge_base(
                pool,
                owner_id=user_id,
                name=name,
                embedding_model=embedding_model or settings.embedding_model,
                chunk_size=chunk_size,
                chunk_overlap=chunk_overlap,
            )
            return kb.id

    click.echo(run_async(main()))


@kb_command.command("ingest")
@click.argument("kb_id")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--user", "user_id", required=True, help="the knowledge base's owner (user id)")
@click.option("--wait/--no-wait", default=True, show_default=True, help="follow it to the end")
@click.pass_context
def ingest_command(ctx: click.Context, kb_id: str, file: Path, user_id: str, wait: bool) -> None:
    """Ingest FILE (text, Markdown, HTML or PDF) into knowledge base KB_ID.

    Prints the document id; with --wait, its progress (as the outbox records it) and counts.
    A worker must be running on FLOWMAESTRO_TASK_QUEUE.
    """
    settings = settings_of(ctx)
    content = file.read_bytes()

    async def main() -> None:
        client = await connect_temporal(settings)
        async with await create_pool(resolve_dsn(settings), max_size=2) as pool:
            # Events are published after this position, so none is missed.
            head = await pool.fetchval("SELECT last_position FROM outbox_sequencer")
            try:
                handle = await ingest_document(
                    client,
                    pool,
                    kb_id=kb_id,
                    user_id=user_id,
                    file_name=file.name,
                    content=Content.of(content),
                    max_bytes=settings.limits.max_document_bytes,
                    task_queue=settings.task_queue,
                )
            except KnowledgeBaseNotFoundError as exc:
                raise FlowMaestroError(str(exc)) from exc
            document_id = handle.id.removeprefix("kb-ingest-")
            click.echo(document_id)
            if not wait:
                return
            progress = asyncio.create_task(_print_progress(pool, document_id, head))
            try:
                result = await handle.result()
            except WorkflowFailureError as exc:
                raise FlowMaestroError(f"ingestion failed: {exc.cause}") from exc
            finally:
                # The workflow ends after its last events commit, maybe before they are
                # sequenced: print them all, up to the document's final event (wait_for
                # cancels the printer if that takes longer).
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(progress, _LAST_EVENTS_GRACE)
            click.echo(
                f"{plural(result.chunk_count, 'chunk')}, "
                f"{plural(result.embedding_count, 'embedding')}"
            )

    run_async(main())


# Seconds to wait, once the workflow has ended, for its last events to be sequenced.
_LAST_EVENTS_GRACE = 10.0
_FINAL_TYPES = frozenset({"kb:upload_completed", "kb:upload_failed"})


async def _print_progress(pool: asyncpg.Pool, document_id: str, after: int) -> None:
    """Print the document's kb:processing events as the sequencer publishes them, until its
    kb:upload_completed or kb:upload_failed."""
    async for stored in OutboxReader(pool, poll_interval=0.5).tail(after):
        data = stored.envelope["data"]
        if data.get("documentId") != document_id:
            continue
        if stored.type == "kb:processing":
            click.echo(f"  {data['step']}: {data['progress']:g}%", err=True)
        elif stored.type in _FINAL_TYPES:
            return

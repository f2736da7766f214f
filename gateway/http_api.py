"""The HTTP API of docs/protocol.md (same origin, `Authorization: Bearer <JWT>`)."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request
from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationError, model_validator

from flowmaestro.events.catalogue.execution import ExecutionStatus
from flowmaestro.events.channels import execution_channel, inbox_of, user_channel
from flowmaestro.flows.errors import FlowError, FlowsError
from flowmaestro.flows.flow import Flow, load_flow
from flowmaestro.flows.kb import store
from flowmaestro.flows.kb.start import ingest_document
from flowmaestro.flows.messages import Visibility
from flowmaestro.flows.start import start_execution
from flowmaestro.gateway import sse
from flowmaestro.gateway.api_models import (
    Answered,
    DocumentAccepted,
    EventPage,
    ExecutionList,
    ExecutionSnapshot,
    InboxPage,
    KnowledgeBaseCreated,
    KnowledgeBaseList,
    Started,
    documented,
)
from flowmaestro.gateway.auth import Principal
from flowmaestro.gateway.cancel import CancelResult, cancel_execution
from flowmaestro.gateway.errors import AuthError, GatewayError
from flowmaestro.gateway.http_errors import ERROR_RESPONSES
from flowmaestro.gateway.inbox import InboxCursor, inbox_page
from flowmaestro.gateway.listing import Cursor, Filters, list_page
from flowmaestro.gateway.ownership import (
    VISIBLE_SQL,
    authorize_channels,
    execution_access,
    knowledge_base_access,
    require_owner,
    require_visible,
)
from flowmaestro.gateway.query import Digits, Instant, Position
from flowmaestro.gateway.relay import provide_input
from flowmaestro.gateway.replay_budget import ReplayBudget
from flowmaestro.gateway.snapshot import access_of, execution_snapshot, read_snapshot
from flowmaestro.gateway.uploads import OPENAPI_FILE_BODY, received_file
from flowmaestro.security import unstorable_path

if TYPE_CHECKING:
    import asyncpg
    from temporalio.client import Client

    from flowmaestro.events.outbox import OutboxReader
    from flowmaestro.gateway.auth import TokenVerifier
    from flowmaestro.gateway.budgets import Budgets, UserLimits
    from flowmaestro.gateway.clock import Clock
    from flowmaestro.gateway.config import GatewayConfig
    from flowmaestro.gateway.hub import Hub
    from flowmaestro.gateway.quotas import Quotas

log = logging.getLogger(__name__)


_KNOWLEDGE_BASES = f"""
SELECT kb.id, kb.name, kb.created_at, kb.owner_id, kb.visibility, count(d.id) AS documents
FROM knowledge_bases kb LEFT JOIN kb_documents d ON d.knowledge_base_id = kb.id
WHERE {VISIBLE_SQL.format(workspace="$3", owner="kb.owner_id", user="$1")}
GROUP BY kb.id ORDER BY kb.created_at DESC, kb.id LIMIT $2
"""


class _Body(BaseModel):
    """A JSON request body: no unknown field, and only text Postgres can store."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _storable(cls, data: Any) -> Any:
        where = unstorable_path(data)
        if where is not None:
            raise ValueError(f"{where}: a NUL character or a lone surrogate cannot be stored")
        return data


class StartRequest(_Body):
    flow: str | dict[str, JsonValue] = Field(
        description="an example flow's name (e.g. `approval`) or a flow document"
    )
    inputs: dict[str, JsonValue] = Field(default_factory=dict)
    visibility: Visibility | None = Field(
        default=None, description="who of the caller's workspace may watch (default: the flow's)"
    )


class KnowledgeBaseRequest(_Body):
    name: str = Field(min_length=1, max_length=200)
    visibility: Visibility = "private"


class AnswerRequest(_Body):
    value: JsonValue


async def _principal(
    request: Request, authorization: Annotated[str | None, Header()] = None
) -> Principal:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer":
        raise AuthError("send Authorization: Bearer <token>")
    verifier: TokenVerifier = request.app.state.verifier
    return await verifier.verify(token.strip())


User = Annotated[Principal, Depends(_principal)]


async def _reading(request: Request, user: User) -> Principal:
    """The caller, once their read has been counted (`user_reads_per_second`)."""
    budgets: Budgets = request.app.state.budgets
    limits: UserLimits = request.app.state.user_limits
    await budgets.spend(user.user_id, limits.reads)
    return user


Reading = Annotated[Principal, Depends(_reading)]
"""The caller of a read: every read spends the user's read budget, across gateways."""


def http_api(
    app: FastAPI,
    config: GatewayConfig,
    hub: Hub,
    reader: OutboxReader,
    verifier: TokenVerifier,
    pool: asyncpg.Pool,
    temporal: Client,
    quotas: Quotas,
    clock: Clock,
    budgets: Budgets,
    user_limits: UserLimits,
) -> None:
    """Add the `/api` routes to `app`; every write first spends its user's quota, every read
    its read budget."""

    app.state.verifier = verifier
    app.state.budgets = budgets
    app.state.user_limits = user_limits
    replays = ReplayBudget(reader, budgets, user_limits)

    async def streaming(
        user: Principal, channels: list[str], after: int | None, *, announce: bool
    ) -> sse.HeldStream:
        """An SSE stream of `channels` for `user`, within the user's stream and replay
        budgets (429 `quota_exceeded` / `rate_limited` before it starts)."""
        held = await budgets.take(user.user_id, user_limits.streams)
        try:
            replay_held = None if after is None else await replays.take(user.user_id)
        except BaseException:
            held.release()
            raise
        content = sse.stream(
            hub,
            replays.pages(user.user_id),
            channels,
            after,
            config.replay_page,
            announce=announce,
            expires_at=user.expires_at,
            clock=clock,
            replay_held=replay_held,
        )
        return sse.HeldStream(content, held, replay_held)

    async def visible(execution_id: str, user: Principal) -> None:
        access = await execution_access(pool, execution_id)
        require_visible(access, user, f"execution {execution_id}")

    router = APIRouter(prefix="/api", responses=ERROR_RESPONSES)

    @router.post("/executions", status_code=201, **documented(Started, 201))
    async def start(body: StartRequest, user: User) -> dict[str, str]:
        """Start a flow; the caller owns the execution, in their workspace."""
        await quotas.spend(user.user_id)
        # Bounded by the limits, but parsing a flow's templates is CPU work: off the loop.
        flow = await asyncio.to_thread(_flow, config, body.flow)
        try:
            async with quotas.starting(user.user_id) as con:
                execution_id = await start_execution(
                    temporal,
                    flow,
                    user.user_id,
                    body.inputs,
                    pool=con,
                    task_queue=config.task_queue,
                    workspace=user.workspace,
                    visibility=body.visibility,
                )
        except FlowsError as exc:
            raise GatewayError("bad_request", str(exc)) from exc
        return {"executionId": execution_id}

    @router.get("/executions", **documented(ExecutionList))
    async def list_executions(
        user: Reading,
        limit: Annotated[int, Query(ge=1, le=500), Digits] = 100,
        cursor: Annotated[str | None, Query(max_length=500)] = None,
        status: ExecutionStatus | None = None,
        flow: Annotated[str | None, Query(max_length=200)] = None,
        since: Instant | None = None,
        until: Instant | None = None,
    ) -> dict[str, Any]:
        """The executions the caller may see (their own and their workspace's shared ones),
        newest first; pass `nextCursor` back as `cursor`."""
        filters = Filters(status=status, flow=flow, since=since, until=until)
        page_after = Cursor.decode(cursor) if cursor is not None else None
        return await list_page(pool, user, filters, page_after, limit)

    @router.get("/inbox", **documented(InboxPage))
    async def inbox(
        user: Reading,
        limit: Annotated[int, Query(ge=1, le=500), Digits] = 100,
        cursor: Annotated[str | None, Query(max_length=1000)] = None,
    ) -> dict[str, Any]:
        """The open prompts waiting for the caller (assigned to them or one of their groups,
        or theirs to answer), oldest first; pass `nextCursor` back as `cursor`."""
        page_after = InboxCursor.decode(cursor) if cursor is not None else None
        return await inbox_page(pool, user, page_after, limit)

    @router.get("/executions/{execution_id}", **documented(ExecutionSnapshot))
    async def snapshot(execution_id: str, user: Reading) -> dict[str, Any]:
        """The execution's state, with the `position` it is current as of."""
        found = await read_snapshot(pool, execution_id)
        require_visible(found and access_of(found[0]), user, f"execution {execution_id}")
        assert found is not None
        return execution_snapshot(*found)

    @router.get("/executions/{execution_id}/events", **documented(EventPage))
    async def events(
        execution_id: str,
        user: Reading,
        after: Position = 0,
        limit: Annotated[int, Query(ge=1, le=5000), Digits] = 1000,
    ) -> dict[str, Any]:
        """Catch-up: the execution's events after a position, in order."""
        await visible(execution_id, user)
        page = await replays.page(user.user_id, after, execution_channel(execution_id), limit)
        return {
            "events": [e.envelope for e in page.events],
            "position": page.events[-1].position if page.events else after,
            "recovered": page.recovered,
        }

    @router.get("/executions/{execution_id}/stream")
    async def stream(
        execution_id: str,
        user: Reading,
        last_event_id: Annotated[str | None, Header()] = None,
        after: Position | None = None,
    ) -> sse.HeldStream:
        """Server-sent events; each `id` is a position, so `Last-Event-ID` resumes."""
        await visible(execution_id, user)
        start = sse.start_position(last_event_id, after)
        return await streaming(user, [execution_channel(execution_id)], start, announce=False)

    @router.get("/stream")
    async def multiplexed(
        user: Reading,
        channel: Annotated[list[str], Query(min_length=1)],
        last_event_id: Annotated[str | None, Header()] = None,
        after: Position | None = None,
    ) -> sse.HeldStream:
        """Server-sent events of every given channel (`?channel=...&channel=...`, each
        authorized as a subscribe is), one position for all: `Last-Event-ID` resumes them all
        on any gateway. A `ready` event (its id the position covered) follows the replay."""
        channels = list(dict.fromkeys(channel))
        if len(channels) > config.limits.socket_max_subscriptions:
            raise GatewayError(
                "bad_request",
                f"at most {config.limits.socket_max_subscriptions} channels per stream",
            )
        if any(len(name) > 500 for name in channels):
            raise GatewayError("bad_request", "a channel name is at most 500 characters")
        await authorize_channels(pool, user, channels)
        if user_channel(user.user_id) in channels:
            # The user's own channel brings their inbox, as a socket's does (docs/teams.md).
            channels += inbox_of(user.workspace, user.user_id, user.groups)
        start = sse.start_position(last_event_id, after)
        return await streaming(user, channels, start, announce=True)

    @router.post("/executions/{execution_id}/inputs/{input_id}", **documented(Answered))
    async def answer(
        execution_id: str, input_id: str, body: AnswerRequest, user: User
    ) -> dict[str, Any]:
        """Answer a prompt (the same checks and codes as `user_input:provide`)."""
        await quotas.spend(user.user_id)
        result = await provide_input(
            temporal, pool, user, execution_id, input_id, body.value, "http", config.input_timeout
        )
        return {"ok": True, "inputId": result.input_id, "nodeId": result.node_id}

    @router.post("/executions/{execution_id}/cancel", status_code=202)
    async def cancel(execution_id: str, user: User) -> CancelResult:
        """Cancel the caller's execution (idempotent); its end arrives as `execution:failed`
        with `error.type` `cancelled`, and its status becomes `cancelled`."""
        await quotas.spend(user.user_id)
        return await cancel_execution(temporal, pool, user, execution_id)

    @router.get("/knowledge-bases", **documented(KnowledgeBaseList))
    async def list_knowledge_bases(
        user: Reading, limit: Annotated[int, Query(ge=1, le=500), Digits] = 200
    ) -> dict[str, Any]:
        """The knowledge bases the caller may see, newest first, with their document
        counts."""
        rows = await pool.fetch(_KNOWLEDGE_BASES, user.user_id, limit, user.workspace)
        return {
            "knowledgeBases": [
                {
                    "knowledgeBaseId": r["id"],
                    "name": r["name"],
                    "ownerId": r["owner_id"],
                    "visibility": r["visibility"],
                    "documentCount": r["documents"],
                    "createdAt": r["created_at"].isoformat(),
                }
                for r in rows
            ]
        }

    @router.post("/knowledge-bases", status_code=201, **documented(KnowledgeBaseCreated, 201))
    async def new_knowledge_base(body: KnowledgeBaseRequest, user: User) -> dict[str, str]:
        """Create a knowledge base owned by the caller, in their workspace."""
        await quotas.spend(user.user_id)
        kb = await store.create_knowledge_base(
            pool,
            owner_id=user.user_id,
            name=body.name,
            workspace=user.workspace,
            visibility=body.visibility,
        )
        return {"knowledgeBaseId": kb.id}

    @router.post(
        "/knowledge-bases/{knowledge_base_id}/documents",
        status_code=202,
        openapi_extra=OPENAPI_FILE_BODY,
        **documented(DocumentAccepted, 202),
    )
    async def upload(knowledge_base_id: str, request: Request, user: User) -> dict[str, str]:
        """Upload a document (multipart `file`, at most `max_document_bytes`, streamed); its
        ingestion streams as `kb:*` events on `kb:{id}`. Only its owner adds documents."""
        await quotas.spend(user.user_id)
        what = f"knowledge base {knowledge_base_id}"
        require_owner(await knowledge_base_access(pool, knowledge_base_id), user, what)
        max_bytes = config.limits.max_document_bytes
        async with received_file(request, max_bytes) as (file_name, content):
            handle = await ingest_document(
                temporal,
                pool,
                kb_id=knowledge_base_id,
                user_id=user.user_id,
                file_name=file_name,
                content=content,
                max_bytes=max_bytes,
                task_queue=config.task_queue,
            )
        # The ingestion's workflow id is `kb-ingest-{document id}`.
        return {"documentId": handle.id.removeprefix("kb-ingest-"), "workflowId": handle.id}

    app.include_router(router)


def _flow(config: GatewayConfig, flow: str | dict[str, JsonValue]) -> Flow:
    try:
        if isinstance(flow, dict):
            # Checked within the limits first (size, nesting, nodes, templates): parsing
            # only, in linear time; nothing in the flow is evaluated here.
            return load_flow(flow, config.limits)
        if config.flows_dir is None or not flow.replace("_", "").replace("-", "").isalnum():
            raise GatewayError("not_found", f"no flow named {flow!r}")
        path = config.flows_dir / f"{flow}.yaml"
        if not path.is_file():
            raise GatewayError("not_found", f"no flow named {flow!r}")
        return load_flow(path, config.limits)
    except FlowError as exc:
        details: JsonValue = {"limit": exc.limit, "nodeId": exc.node_id} if exc.limit else None
        raise GatewayError("bad_request", f"invalid flow: {exc}", details) from exc
    except (FlowsError, ValidationError) as exc:
        raise GatewayError("bad_request", f"invalid flow: {exc}") from exc

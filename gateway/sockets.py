"""The Socket.IO protocol of docs/protocol.md: connect, subscribe, unsubscribe,
user_input:provide; every refusal is an ack (or an `error` event) with a code."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import parse_qs

import asyncpg
from pydantic import BaseModel, ValidationError

from flowmaestro.events.channels import inbox_of
from flowmaestro.events.protocol import (
    AuthExpired,
    AuthExpiring,
    AuthRefreshAck,
    AuthRefreshRequest,
    ConnectOptions,
    OkAck,
    ProvideInputRequest,
    SubscribeRequest,
    UnsubscribeRequest,
)
from flowmaestro.gateway.errors import AuthError, GatewayError, error_payload
from flowmaestro.gateway.expiry import TokenClock
from flowmaestro.gateway.ownership import authorize_channels
from flowmaestro.gateway.presence import has_presence
from flowmaestro.gateway.relay import provide_input
from flowmaestro.gateway.transport import Refused
from flowmaestro.gateway.unavailable import as_unavailable
from flowmaestro.security import unstorable_path

if TYPE_CHECKING:
    from pydantic import JsonValue
    from temporalio.client import Client

    from flowmaestro.gateway.auth import Principal, TokenVerifier
    from flowmaestro.gateway.budgets import Budgets, SyncedRate, UserLimits
    from flowmaestro.gateway.clock import Clock
    from flowmaestro.gateway.hub import Connection, Hub
    from flowmaestro.gateway.metrics import GatewayMetrics
    from flowmaestro.gateway.presence import Presence
    from flowmaestro.gateway.quotas import Quotas
    from flowmaestro.gateway.transport import SocketServer

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)

Handler = Callable[["Connection", Any], Awaitable[dict[str, Any]]]


def _parse(model: type[M], payload: Any) -> M:
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_context=False, include_input=False)
        details: JsonValue = [
            {"loc": [str(p) for p in e["loc"]], "message": e["msg"]} for e in errors
        ]
        raise GatewayError("bad_request", f"invalid {model.__name__}", details) from exc


def token_of(environ: dict[str, Any], auth: Any) -> object:
    if isinstance(auth, dict) and "token" in auth:
        return auth["token"]
    tokens = parse_qs(environ.get("QUERY_STRING", "")).get("token")
    return tokens[0] if tokens else None


class SocketProtocol:
    """Binds the protocol's handlers to a SocketServer."""

    def __init__(
        self,
        server: SocketServer,
        hub: Hub,
        verifier: TokenVerifier,
        pool: asyncpg.Pool,
        temporal: Client,
        metrics: GatewayMetrics,
        input_timeout: float,
        quotas: Quotas,
        refresh_warning: float,
        close_timeout: float,
        presence: Presence,
        clock: Clock,
        budgets: Budgets,
        user_limits: UserLimits,
        messages: SyncedRate,
    ) -> None:
        self._presence = presence
        self._budgets = budgets
        self._user_limits = user_limits
        self._messages = messages
        self._replays = hub.replays
        self._input_timeout = input_timeout
        self._quotas = quotas
        self._close_timeout = close_timeout
        self._clock = TokenClock(clock, refresh_warning, self._warn_expiring, self._expire)
        self._expired: set[str] = set()
        self._principals: dict[str, Principal] = {}
        """Who each socket is (its token's claims, the latest refresh's)."""
        self._server = server
        self._hub = hub
        self._verifier = verifier
        self._pool = pool
        self._temporal = temporal
        self._metrics = metrics
        self._routes: dict[str, Handler] = {
            "subscribe": self._subscribe,
            "unsubscribe": self._unsubscribe,
            "user_input:provide": self._provide,
            "auth:refresh": self._refresh,
        }
        server.on("connect", self._connect)
        server.on("disconnect", self._disconnect)
        server.dispatch = self._dispatch
        server.refuse = self._refuse

    async def _connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        try:
            principal = await self._verifier.verify(token_of(environ, auth))
        except AuthError as exc:
            self._metrics.rejected.labels(exc.code).inc()
            raise Refused(exc.code, exc.message) from None
        try:
            options = ConnectOptions.model_validate(auth if isinstance(auth, dict) else {})
        except ValidationError:
            message = "auth may carry after (a position) and batch (a boolean)"
            self._metrics.rejected.labels("bad_request").inc()
            raise Refused("bad_request", message) from None
        try:
            await self._budgets.hold(principal.user_id, self._user_limits.sockets)
        except GatewayError as exc:
            self._metrics.rejected.labels(exc.code).inc()
            raise Refused(exc.code, exc.message, exc.details) from None
        try:
            # A resume's replay is refused here, on the connect, with its code.
            replay = None if options.after is None else await self._replays.take(principal.user_id)
        except GatewayError as exc:
            self._budgets.release(principal.user_id, self._user_limits.sockets)
            self._metrics.rejected.labels(exc.code).inc()
            raise Refused(exc.code, exc.message, exc.details) from None
        if self._server.outlet(sid).depth() is None:
            # Gone while the budgets were asked: python-socketio calls no disconnect handler
            # for a socket that never connected, so nothing else would give them back.
            self._budgets.release(principal.user_id, self._user_limits.sockets)
            if replay is not None:
                replay.release()
            raise Refused("bad_request", "the socket closed while connecting")
        self._metrics.connections.inc()
        self._clock.set(sid, principal.expires_at)
        self._principals[sid] = principal
        # Last statement: python-socketio queues the CONNECT packet with no await in between,
        # so no event of the user channel can reach the client before its connect.
        self._hub.connect(
            sid,
            principal.user_id,
            after=options.after,
            batch=options.batch,
            replay=replay,
            inbox=inbox_of(principal.workspace, principal.user_id, principal.groups),
        )

    async def _disconnect(self, sid: str, reason: str) -> None:
        self._clock.stop(sid)
        self._principals.pop(sid, None)
        conn = self._hub.connections.get(sid)
        if conn is None:
            return
        if sid in self._expired:
            self._expired.discard(sid)
            reason = "token_expired"
        self._metrics.connections.dec()
        self._metrics.disconnects.labels("slow" if conn.slow else str(reason)).inc()
        self._hub.disconnect(sid)
        self._budgets.release(conn.user_id, self._user_limits.sockets)
        try:
            await self._presence.leave_all(conn)
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
            # The lease runs out instead: other gateways see this socket leave then.
            log.warning("cannot record that %s left: %s", sid, exc)

    async def _warn_expiring(self, sid: str, exp: int) -> None:
        await self._server.emit(
            "auth:expiring", AuthExpiring(exp=exp).model_dump(mode="json"), to=sid
        )

    async def _expire(self, sid: str) -> None:
        """The token has expired unrefreshed: say so, then disconnect the socket (and close
        its websocket; severed if the client does not take the close in time)."""
        conn = self._hub.connections.get(sid)
        if conn is None:
            return
        self._expired.add(sid)
        expired = AuthExpired(message="the token has expired: reconnect with a fresh one")
        await self._server.emit("auth:expired", expired.model_dump(mode="json"), to=sid)
        await self._server.close(sid, "token_expired", self._close_timeout)

    async def _dispatch(self, sid: str, ack_id: int | None, args: list[Any]) -> None:
        name, payloads = args[0], args[1:]
        conn = self._hub.connections.get(sid)
        if conn is None:
            return
        handler = self._routes.get(name)
        if handler is None:
            result = error_payload("bad_request", f"unknown event {name!r}")
        elif len(payloads) != 1:
            result = error_payload("bad_request", f"{name} takes exactly one payload")
        elif (where := unstorable_path(payloads[0])) is not None:
            result = error_payload(
                "bad_request", f"{where}: a NUL character or a lone surrogate cannot be stored"
            )
        else:
            try:
                self._messages.spend(conn.user_id)
                result = await handler(conn, payloads[0])
            except GatewayError as exc:
                result = error_payload(exc.code, exc.message, exc.details)
            except Exception as exc:
                refusal: GatewayError | None = as_unavailable(exc)
                if refusal is None:
                    log.exception("handler %s failed", name)
                    refusal = GatewayError("internal", "the gateway failed to handle this message")
                result = error_payload(refusal.code, refusal.message, refusal.details)
        if result.get("ok") is False:
            self._metrics.rejected.labels(result["error"]["code"]).inc()
        if ack_id is not None:
            await self._server.answer(sid, ack_id, result)
        elif result.get("ok") is False:
            await self._server.emit("error", result, to=sid)

    async def _refuse(self, sid: str, ack_id: int | None, code: str, message: str) -> None:
        result = error_payload(code, message)  # type: ignore[arg-type]
        self._metrics.rejected.labels(code).inc()
        if ack_id is not None:
            await self._server.answer(sid, ack_id, result)
        else:
            await self._server.emit("error", result, to=sid)

    async def _subscribe(self, conn: Connection, payload: Any) -> dict[str, Any]:
        request = _parse(SubscribeRequest, payload)
        channels = request.names
        joining = [ch for ch in channels if has_presence(ch) and ch not in conn.joined]
        if joining:
            # Before the ownership query: a refusal remembered here costs no round trip.
            await self._budgets.spend(conn.user_id, self._user_limits.presence, len(joining))
        await authorize_channels(self._pool, self._principals[conn.sid], channels)
        watching: dict[str, list[str]] = {}
        for channel in filter(has_presence, channels):
            # Before the hub's subscribe: from its return to the ack nothing may await, or
            # live events would reach the socket ahead of its ack.
            try:
                watching[channel] = await self._presence.join(conn, channel)
            except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
                log.warning("presence of %s unavailable: %s", channel, exc)
        try:
            ack = await self._hub.subscribe(conn, channels, request.after, batch=request.batch)
        except BaseException:
            for channel in watching:
                if channel not in conn.joined:
                    await self._presence.leave(conn, channel)
            raise
        if len(channels) == 1:
            update: dict[str, Any] = {"presence": watching.get(channels[0])}
        else:
            update = {"presences": watching or None}
        return ack.model_copy(update=update).model_dump(mode="json")

    async def _unsubscribe(self, conn: Connection, payload: Any) -> dict[str, Any]:
        request = _parse(UnsubscribeRequest, payload)
        await self._hub.unsubscribe(conn, request.channel)
        await self._presence.leave(conn, request.channel)
        return OkAck().model_dump(mode="json")

    async def _refresh(self, conn: Connection, payload: Any) -> dict[str, Any]:
        """A fresh token for the same user in the same workspace moves the socket's expiry
        on (and its groups: they may change). Another workspace needs a new socket: what the
        socket has joined was authorized for the old one."""
        request = _parse(AuthRefreshRequest, payload)
        principal = await self._verifier.verify(request.token)
        if principal.user_id != conn.user_id:
            raise GatewayError("forbidden", "the new token is for another user")
        if principal.workspace != self._principals[conn.sid].workspace:
            raise GatewayError(
                "forbidden", "the new token is for another workspace: connect again with it"
            )
        self._principals[conn.sid] = principal
        self._clock.set(conn.sid, principal.expires_at)
        return AuthRefreshAck(exp=int(principal.expires_at)).model_dump(mode="json")

    async def _provide(self, conn: Connection, payload: Any) -> dict[str, Any]:
        request = _parse(ProvideInputRequest, payload)
        await self._quotas.spend(conn.user_id)
        await provide_input(
            self._temporal,
            self._pool,
            self._principals[conn.sid],
            request.execution_id,
            request.input_id,
            request.value,
            "socketio",
            self._input_timeout,
        )
        return OkAck().model_dump(mode="json")

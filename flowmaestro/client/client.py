"""The client: one Socket.IO connection that comes back by itself.

It connects over websocket with a token (or asks a callback for a fresh one each time; with
a callback it also answers the gateway's `auth:expiring` with `auth:refresh`, so the socket
outlives its first token), asks for batched frames, and after any drop (an expired token's
included) reconnects with backoff and resumes every followed channel with one cursor (the
connect's `after` and one `subscribe` of all of them, docs/protocol.md "One order per
socket"), so a gateway restart costs no event and repeats none.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import aiohttp
import socketio
import socketio.exceptions
from pydantic import ValidationError

from flowmaestro.client.backoff import Backoff
from flowmaestro.client.errors import ClientError, RefusedError, SubscribeError
from flowmaestro.client.subscription import Delivery, Subscription, channel_of
from flowmaestro.errors import UnreachableError
from flowmaestro.events import (
    ExecutionCompleted,
    ExecutionFailed,
    InvalidEventError,
    is_event_type,
    parse_event,
)
from flowmaestro.events.channels import channels_for
from flowmaestro.events.protocol import ProvideInputRequest

if TYPE_CHECKING:
    import ssl
    from collections.abc import AsyncIterator
    from types import TracebackType

    from pydantic import JsonValue

    from flowmaestro.events import Event

TokenSource = str | Callable[[], str | Awaitable[str]]
"""A token, or a function (sync or async) asked for a fresh one on every connect and
whenever the gateway says the current one is about to expire."""

log = logging.getLogger(__name__)


class Client:
    """`async with Client(url, token) as client:` connects (or raises UnreachableError /
    RefusedError); leaving the block closes the connection."""

    def __init__(
        self,
        url: str,
        token: TokenSource,
        *,
        on_status: Callable[[str], None] | None = None,
        backoff: Backoff | None = None,
        connect_timeout: float = 10.0,
        call_timeout: float = 30.0,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self._tls = tls
        self._token = token
        self._status = on_status or (lambda message: log.info("%s", message))
        self._backoff = backoff or Backoff()
        self._connect_timeout = connect_timeout
        self._call_timeout = call_timeout
        self._subscriptions: dict[str, Subscription] = {}
        self._sio: socketio.AsyncClient | None = None
        self._generation = 0
        self._connected = asyncio.Event()
        self._lost = asyncio.Event()
        self._closing = False
        self._failure: BaseException | None = None
        self._runner: asyncio.Task[None] | None = None
        self._http: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.connections = 0
        """How many times a connection was made (reconnects included)."""

    async def __aenter__(self) -> Client:
        # One HTTP session for every connection, so none is left open by a failed attempt.
        # `tls` (for a private CA) applies to every connection made through this session.
        connector = aiohttp.TCPConnector(ssl=self._tls) if self._tls is not None else None
        self._http = aiohttp.ClientSession(connector=connector)
        try:
            await self._open()
        except BaseException as exc:
            await self._http.close()
            if not isinstance(exc, socketio.exceptions.ConnectionError | OSError):
                raise
            raise UnreachableError(
                f"cannot connect to the gateway at {self.url}: {exc}",
                hint="is the gateway running (flowmaestro dev / flowmaestro gateway)? "
                "is the URL right, and the token valid?",
            ) from exc
        self._runner = asyncio.create_task(self._reconnect_forever())
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._closing = True
        tasks = [t for t in (self._runner, *self._tasks) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._sio is not None:
            await self._sio.disconnect()
        if self._http is not None:
            await self._http.close()

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    # -- following channels ------------------------------------------------------------

    async def events(
        self,
        target: str,
        *,
        after: int | None = None,
        until_end: bool | None = None,
        on_subscribed: Callable[[int], None] | None = None,
    ) -> AsyncIterator[Event]:
        """Typed events of `target` (a channel, or an execution id) in position order, each
        once. `after`: replay from that position first (0: all retained history); None: live
        from now. For an execution, `until_end` (default) stops after its last event.
        `on_subscribed(position)` is called on every (re)subscribe's ack."""
        async for delivery in self._follow(target, after, until_end, on_subscribed):
            yield delivery.event

    async def envelopes(
        self,
        target: str,
        *,
        after: int | None = None,
        until_end: bool | None = None,
        on_subscribed: Callable[[int], None] | None = None,
    ) -> AsyncIterator[dict[str, Any]]:
        """As `events`, but each envelope as the gateway sent it (camelCase JSON)."""
        async for delivery in self._follow(target, after, until_end, on_subscribed):
            yield delivery.envelope

    def cursor(self, target: str) -> int | None:
        """The last position handed out of a followed target."""
        subscription = self._subscriptions.get(channel_of(target))
        return None if subscription is None else subscription.cursor

    async def _follow(
        self,
        target: str,
        after: int | None,
        until_end: bool | None,
        on_subscribed: Callable[[int], None] | None,
    ) -> AsyncIterator[Delivery]:
        channel = channel_of(target)
        if channel in self._subscriptions:
            raise ClientError("bad_request", f"{channel} is already being followed")
        if self._failure is not None:
            raise self._failure
        execution_id = (
            channel.removeprefix("execution:") if channel.startswith("execution:") else None
        )
        stop = execution_id is not None if until_end is None else until_end
        subscription = self._subscriptions[channel] = Subscription(channel, after, on_subscribed)
        if self._sio is not None and self.connected:
            subscription.hold(self._generation)
            self._spawn(self._subscribe(self._sio, self._generation, [subscription]))
        try:
            while True:
                item = await subscription.queue.get()
                if isinstance(item, BaseException):
                    raise item
                yield item
                if stop and isinstance(item.event, ExecutionCompleted | ExecutionFailed):
                    return
        finally:
            del self._subscriptions[channel]
            if self._sio is not None and self.connected and not self._closing:
                self._spawn(self._unsubscribe(self._sio, channel))

    # -- answering ---------------------------------------------------------------------

    async def provide_input(
        self, execution_id: str, input_id: str, value: JsonValue, *, wait: float = 30.0
    ) -> None:
        """Answer a prompt; ClientError with the gateway's code (`invalid_input`,
        `already_answered`, `expired`, ...) when it is refused. Waits up to `wait` seconds
        for a connection if there is none."""
        try:
            request = ProvideInputRequest(execution_id=execution_id, input_id=input_id, value=value)
        except ValidationError as exc:
            # The gateway's answer to it, without the round trip; named as the caller did.
            first = exc.errors(include_url=False)[0]
            where = ".".join(str(p) for p in first["loc"])
            raise ClientError("bad_request", f"invalid answer: {where}: {first['msg']}") from None
        try:
            async with asyncio.timeout(wait):
                await self._connected.wait()
        except TimeoutError:
            raise ClientError("internal", f"not connected to {self.url}") from None
        assert self._sio is not None
        payload = request.model_dump(mode="json")
        try:
            ack = await self._sio.call("user_input:provide", payload, timeout=self._call_timeout)
        except (socketio.exceptions.TimeoutError, socketio.exceptions.BadNamespaceError):
            raise ClientError(
                "internal", "the gateway did not answer; the answer may still apply"
            ) from None
        if not isinstance(ack, dict) or ack.get("ok") is not True:
            raise ClientError.from_ack(ack)

    async def cancel(self, execution_id: str) -> dict[str, Any]:
        """Cancel an execution of the caller's (`POST /api/executions/{id}/cancel`,
        idempotent): the gateway's answer `{executionId, status, cancelRequested}`. Its end
        arrives as `execution:failed` with `error.type` `cancelled`. ClientError with the
        gateway's code (`forbidden`, `not_found`, ...) when refused."""
        path = f"/api/executions/{quote(execution_id, safe='')}/cancel"
        return await self._request("POST", path, "the cancel", expect=202)

    async def inbox(self, *, limit: int = 100, cursor: str | None = None) -> dict[str, Any]:
        """One page of the open prompts waiting for the caller, assigned to them or to one of
        their groups (`GET /api/inbox`, oldest first): `{prompts, nextCursor}`; pass
        `nextCursor` back as `cursor` (None: the last page). Changes arrive live on the
        caller's user channel: follow `events("user:<id>")` for `user_input:required`,
        `user_input:received` and `user_input:timeout`."""
        params = (
            {"limit": str(limit)} if cursor is None else {"limit": str(limit), "cursor": cursor}
        )
        return await self._request("GET", "/api/inbox", "the inbox", params=params)

    async def _request(
        self,
        method: str,
        path: str,
        what: str,
        *,
        params: dict[str, str] | None = None,
        expect: int = 200,
    ) -> dict[str, Any]:
        """A call of the gateway's HTTP API as the caller: its JSON answer, or ClientError
        with the gateway's code."""
        assert self._http is not None, "use the client inside `async with`"
        headers = {"Authorization": f"Bearer {await self._token_now()}"}
        timeout = aiohttp.ClientTimeout(total=self._call_timeout)
        try:
            async with self._http.request(
                method, self.url + path, params=params, headers=headers, timeout=timeout
            ) as response:
                body = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise ClientError("internal", f"{what} got no answer: {exc}") from None
        if response.status != expect or not isinstance(body, dict):
            raise ClientError.from_ack(body)
        return body

    # -- the connection ----------------------------------------------------------------

    async def _token_now(self) -> str:
        if isinstance(self._token, str):
            return self._token
        token = self._token()
        return await token if inspect.isawaitable(token) else token

    async def _open(self) -> None:
        """One connection attempt; every followed channel is subscribed again on it."""
        sio = socketio.AsyncClient(reconnection=False, handle_sigint=False, http_session=self._http)
        refusals: list[dict[str, Any]] = []
        lost = asyncio.Event()

        def on_connect_error(data: Any = None) -> None:
            # The refusal's data ({code, message}) arrives wrapped as {message, data}.
            refusal = data.get("data", data) if isinstance(data, dict) else None
            if isinstance(refusal, dict):
                refusals.append(refusal)

        def on_disconnect(reason: Any = None) -> None:
            lost.set()
            if sio is self._sio:
                self._connected.clear()
                self._lost.set()
                if not self._closing:
                    self._status(f"connection to {self.url} lost ({reason}); reconnecting")

        sio.on("connect_error", on_connect_error)
        sio.on("disconnect", on_disconnect)
        sio.on("*", self._on_event)
        self._generation += 1
        generation = self._generation
        for subscription in self._subscriptions.values():
            subscription.hold(generation)
        auth: dict[str, Any] = {"token": await self._token_now(), "batch": True}
        cursor = self._cursor()
        if cursor is not None:
            auth["after"] = cursor  # the user channel first, so the socket stays in order
        try:
            await sio.connect(
                self.url,
                auth=auth,
                transports=["websocket"],
                wait_timeout=self._connect_timeout,
            )
        except socketio.exceptions.ConnectionError as exc:
            if refusals and refusals[0].get("code") == "unauthorized":
                message = refusals[0].get("message")
                raise RefusedError(
                    "unauthorized", f"the gateway refused the token: {message}"
                ) from exc
            raise
        if lost.is_set():
            raise OSError("the connection closed at once")
        self._sio = sio
        self.connections += 1
        self._lost.clear()
        self._connected.set()
        resumable = [s for s in self._subscriptions.values() if s.resumable]
        if resumable:
            self._spawn(self._subscribe(sio, generation, resumable))
        for subscription in self._subscriptions.values():
            if not subscription.resumable:
                self._spawn(self._subscribe(sio, generation, [subscription]))

    def _cursor(self) -> int | None:
        """The socket's resume point: the lowest cursor of the subscriptions acknowledged
        before (each drops what it handed out already)."""
        cursors = [
            s.cursor for s in self._subscriptions.values() if s.resumable and s.cursor is not None
        ]
        return min(cursors, default=None)

    async def _reconnect_forever(self) -> None:
        refused = 0
        while True:
            await self._lost.wait()
            attempt = 0
            while True:
                await asyncio.sleep(self._backoff.delay(attempt))
                attempt += 1
                try:
                    await self._open()
                    refused = 0
                    break
                except RefusedError as exc:
                    # A token callback may hand out a fresh token; a fixed one stays refused.
                    refused += 1
                    if isinstance(self._token, str) or refused > 1:
                        self._fail(exc)
                        return
                except (socketio.exceptions.ConnectionError, OSError) as exc:
                    log.debug("reconnect to %s failed: %s", self.url, exc)

    def _fail(self, error: BaseException) -> None:
        self._failure = error
        for subscription in self._subscriptions.values():
            subscription.fail(error)

    async def _subscribe(
        self, sio: socketio.AsyncClient, generation: int, subscriptions: list[Subscription]
    ) -> None:
        """One subscribe for `subscriptions`, from their lowest cursor."""
        request: dict[str, Any] = {"channels": [s.channel for s in subscriptions]}
        cursors = [s.cursor for s in subscriptions if s.cursor is not None]
        if cursors:
            request["after"] = min(cursors)
        try:
            ack = await sio.call("subscribe", request, timeout=self._call_timeout)
        except (socketio.exceptions.TimeoutError, socketio.exceptions.BadNamespaceError):
            return  # the connection dropped: the next one subscribes again
        names = ", ".join(request["channels"])
        if not isinstance(ack, dict) or ack.get("ok") is not True:
            error = SubscribeError.from_ack(ack, f"cannot subscribe to {names}")
            for subscription in subscriptions:
                subscription.fail(error)
            return
        if not ack.get("recovered", True):
            self._status(f"part of the history of {names} was pruned; continuing with what is left")
        for subscription in subscriptions:
            subscription.acked(generation, int(ack["position"]), bool(ack.get("recovered", True)))

    async def _unsubscribe(self, sio: socketio.AsyncClient, channel: str) -> None:
        with contextlib.suppress(
            socketio.exceptions.TimeoutError, socketio.exceptions.BadNamespaceError
        ):
            await sio.call("unsubscribe", {"channel": channel}, timeout=self._call_timeout)

    async def _refresh(self, sio: socketio.AsyncClient) -> None:
        """Hand the live socket a fresh token (`auth:refresh`); refused, the gateway cuts it
        at the old token's expiry and the reconnect asks the callback again."""
        try:
            token = await self._token_now()
            ack = await sio.call("auth:refresh", {"token": token}, timeout=self._call_timeout)
        except (socketio.exceptions.TimeoutError, socketio.exceptions.BadNamespaceError):
            return  # the connection dropped: the next one connects with a fresh token
        if not isinstance(ack, dict) or ack.get("ok") is not True:
            self._status(f"the gateway refused the fresh token: {ClientError.from_ack(ack)}")

    def _on_event(self, name: str, data: Any = None) -> None:
        if name == "events" and isinstance(data, list):  # a batch, in position order
            for envelope in data:
                if isinstance(envelope, dict):
                    self._on_event(str(envelope.get("type")), envelope)
            return
        if name == "error":
            self._status(f"the gateway reported an error: {data}")
            return
        if name == "auth:expiring":
            if not isinstance(self._token, str) and self._sio is not None:
                self._spawn(self._refresh(self._sio))
            return
        if not is_event_type(name) or not isinstance(data, dict):
            return
        try:
            event = parse_event(data)
        except InvalidEventError as exc:
            log.warning("ignoring an invalid %s event from the gateway: %s", name, exc)
            return
        delivery = Delivery(event, data)
        for channel in channels_for(event):
            subscription = self._subscriptions.get(channel)
            if subscription is not None:
                subscription.offer(delivery)

    def _spawn(self, coroutine: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

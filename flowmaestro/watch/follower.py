"""One execution's events over Socket.IO, each once and in position order, resuming with
`after` whenever the connection drops."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import socketio
import socketio.exceptions

from flowmaestro.errors import FlowMaestroError, UnreachableError

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable
    from types import TracebackType

    from pydantic import JsonValue

TERMINAL = frozenset({"execution:completed", "execution:failed"})


class WatchError(FlowMaestroError):
    """The gateway refused the token or the subscription."""


class Follower:
    """`async with Follower(...) as f: async for event in f.events(): ...` ends after the
    execution's terminal event.

    Events of the execution can arrive twice (its channel and the user's) and, while a
    subscribe replays, out of order: until the subscribe's ack they are held and then
    released sorted, and a position is never handed out twice.
    """

    def __init__(
        self, url: str, token: str, execution_id: str, status: Callable[[str], None]
    ) -> None:
        self.url = url
        self.execution_id = execution_id
        self._token = token
        self._status = status
        self._sio = socketio.AsyncClient(
            reconnection_delay=0.5, reconnection_delay_max=5, handle_sigint=False
        )
        self._queue: asyncio.Queue[dict[str, Any] | BaseException] = asyncio.Queue()
        self._held: list[dict[str, Any]] | None = []
        self._seen: set[int] = set()
        self._last = 0
        self._subscribing: asyncio.Task[None] | None = None
        self._closing = False
        self._sio.on("connect", self._on_connect)
        self._sio.on("disconnect", self._on_disconnect)
        self._sio.on("connect_error", self._on_connect_error)
        self._sio.on("*", self._on_event)

    async def __aenter__(self) -> Follower:
        try:
            await self._sio.connect(
                self.url,
                auth={"token": self._token},
                transports=["websocket"],
                wait_timeout=10,
            )
        except socketio.exceptions.ConnectionError as exc:
            if not self._queue.empty():
                refused = self._queue.get_nowait()
                if isinstance(refused, WatchError):
                    raise refused from exc
            raise UnreachableError(
                f"cannot connect to the gateway at {self.url}: {exc}",
                hint="is the gateway running (flowmaestro dev / flowmaestro gateway)? "
                "is --url right, and the token valid?",
            ) from exc
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._closing = True
        await self._sio.disconnect()
        if self._subscribing is not None:
            self._subscribing.cancel()

    async def events(self) -> AsyncIterator[dict[str, Any]]:
        """Envelopes (camelCase dicts) up to and including the terminal event."""
        while True:
            item = await self._queue.get()
            if isinstance(item, BaseException):
                raise item
            yield item
            if item["type"] in TERMINAL:
                return

    async def provide(self, input_id: str, value: JsonValue) -> dict[str, Any]:
        """Answer a prompt; the gateway's ack (`{ok: true}` or `{ok: false, error}`)."""
        ack: dict[str, Any] = await self._sio.call(
            "user_input:provide",
            {"executionId": self.execution_id, "inputId": input_id, "value": value},
            timeout=30,
        )
        return ack

    def _on_connect(self) -> None:
        self._held = []
        self._subscribing = asyncio.create_task(self._subscribe())

    def _on_disconnect(self, reason: Any = None) -> None:
        if not self._closing:
            self._status(f"connection to {self.url} lost ({reason}); reconnecting")

    def _on_connect_error(self, data: Any = None) -> None:
        # The refusal's data ({code, message}) arrives wrapped as {message, data}.
        refusal = data.get("data", data) if isinstance(data, dict) else None
        if isinstance(refusal, dict) and refusal.get("code") == "unauthorized":
            self._queue.put_nowait(
                WatchError(f"the gateway refused the token: {refusal.get('message')}")
            )

    def _on_event(self, event: str, data: Any = None) -> None:
        if not isinstance(data, dict) or data.get("executionId") != self.execution_id:
            return
        if self._held is not None:
            self._held.append(data)
        else:
            self._hand_out(data)

    def _hand_out(self, envelope: dict[str, Any]) -> None:
        position = envelope.get("position")
        if not isinstance(position, int) or position in self._seen:
            return
        self._seen.add(position)
        self._last = max(self._last, position)
        self._queue.put_nowait(envelope)

    async def _subscribe(self) -> None:
        channel = f"execution:{self.execution_id}"
        while True:
            try:
                ack = await self._sio.call(
                    "subscribe", {"channel": channel, "after": self._last}, timeout=30
                )
                break
            except socketio.exceptions.TimeoutError:
                if not self._sio.connected:
                    return  # the next connect subscribes again
            except socketio.exceptions.BadNamespaceError:
                return  # disconnected before the call went out
        if not ack.get("ok"):
            error = ack.get("error") or {}
            self._queue.put_nowait(
                WatchError(
                    f"cannot watch {self.execution_id}: {error.get('message')} "
                    f"({error.get('code')})"
                )
            )
            return
        if not ack.get("recovered", True):
            self._status("part of this execution's history was pruned; showing what is left")
        held, self._held = self._held or [], None
        for envelope in sorted(held, key=lambda e: int(e.get("position") or 0)):
            self._hand_out(envelope)

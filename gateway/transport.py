"""python-socketio/engineio, adapted: the one module that imports them. It gives the hub its
`Transport` (flowmaestro.gateway.outlets): each socket's outgoing queue, bounded by the hub and
telling when it has drained, rooms, and websockets the gateway can sever; and it answers
inbound limits on the wire.

python-socketio has no hook for these, so it relies on private behaviour, pinned in
pyproject.toml and checked by tests/gateway/test_transport.py (python-socketio 5.18 /
python-engineio 4.15):
- `AsyncServer._engineio_server_class` is overridden to give each engine.io socket our queue,
  and `AsyncServer._handle_eio_message` to see a message before it is decoded;
- `asyncio.Queue._put/_get` are overridden to tell when a queue has drained;
- a frame is an engine.io MESSAGE packet queued straight onto the socket's queue (engine.io
  caches a packet's encoding, so every socket shares one string), bypassing `emit`;
- rooms are joined and left synchronously (`basic_enter_room`/`basic_leave_room`) so the hub
  decides what a socket gets with no await in between;
- the manager's `basic_disconnect` is replaced by one that leaves only the socket's own rooms
  (python-socketio's scans every room of the namespace: with N sockets, N disconnects cost N²).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Sequence
from typing import Any, Literal

import engineio
import socketio
from engineio import packet as eio_packet
from socketio import packet as sio_packet

# scope keys under which each Socket.IO websocket keeps its Severance and its FrameBudget.
SEVERANCE = "flowmaestro.severance"
BUDGET = "flowmaestro.budget"
NAMESPACE = "/"

_EVENT = str(sio_packet.EVENT)
# An EVENT packet's header: `2`, an optional `/namespace,`, an optional ack id.
_EVENT_HEADER = re.compile(r"2(?:(/[^,]*),)?(\d*)")

Verdict = Literal["ok", "refuse", "cut"]
Refusal = Callable[[str, int | None, str, str], Awaitable[None]]
Dispatch = Callable[[str, int | None, list[Any]], Awaitable[None]]


class Refused(socketio.exceptions.ConnectionRefusedError):  # type: ignore[misc]
    """Raised by a connect handler: the client's connect fails with this code and message."""

    def __init__(self, code: str, message: str, details: Any = None) -> None:
        data = {"code": code, "message": message}
        if details is not None:
            data["details"] = details
        super().__init__(message, data)


class OutgoingQueue(asyncio.Queue[Any]):
    """engineio's per-socket queue, telling when it has drained below `low_water`."""

    def __init__(self, low_water: int) -> None:
        super().__init__()
        self.low_water = low_water
        self.drained = asyncio.Event()
        self.drained.set()

    def _put(self, item: Any) -> None:
        super()._put(item)
        if self.qsize() > self.low_water:
            self.drained.clear()

    def _get(self) -> Any:
        item = super()._get()
        if self.qsize() <= self.low_water:
            self.drained.set()
        return item


class TokenBucket:
    """`rate` messages a second on average, bursts of `burst`."""

    __slots__ = ("_at", "_burst", "_rate", "_tokens")

    def __init__(self, rate: float, burst: int) -> None:
        self._rate = rate
        self._burst = float(burst)
        self._tokens = float(burst)
        self._at = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self._tokens = min(self._burst, self._tokens + (now - self._at) * self._rate)
        self._at = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True

    def retry_after(self) -> float:
        """Seconds until the next token (as of the last take)."""
        return max(0.0, (1 - self._tokens) / self._rate)

    def full(self) -> bool:
        return self._tokens + (time.monotonic() - self._at) * self._rate >= self._burst


class FrameBudget:
    """What one websocket may send. Every frame costs a token: events, engine.io pings and
    pongs, and frames refused as malformed or too large alike. Without a token an event is
    answered `rate_limited`; a client that goes on sending through one more burst is cut."""

    __slots__ = ("_bucket", "_burst", "_overdrawn")

    def __init__(self, rate: float, burst: int) -> None:
        self._bucket = TokenBucket(rate, burst)
        self._burst = burst
        self._overdrawn = 0

    def spend(self) -> Verdict:
        if self._bucket.take():
            self._overdrawn = 0
            return "ok"
        self._overdrawn += 1
        return "refuse" if self._overdrawn <= self._burst else "cut"

    def counting(self, receive: Any, severance: Severance) -> Any:
        """`receive` charging each frame engine.io handles itself (pings, pongs, upgrades,
        garbage); its MESSAGE frames are charged where they are answered (SocketServer)."""

        async def counted_receive() -> Any:
            message = await receive()
            if message["type"] == "websocket.receive":
                text = message.get("text")
                carries_message = message.get("bytes") is not None or (
                    text is not None and text.startswith("4")
                )
                if not carries_message and self.spend() == "cut":
                    severance.sever()
                    return {"type": "websocket.disconnect", "code": 1008}
            return message

        return counted_receive


class Severance:
    """Lets the gateway end one websocket at once, even while a send waits on a client that
    stopped reading (a graceful close would queue behind that send).

    Sends are the hot path (one per message per socket), so a send runs in its caller's task
    and severing cancels that task while it waits; receives (rare) race the cut instead."""

    def __init__(self) -> None:
        # A plain future rather than an Event: an idle socket waits on it without a task.
        self._cut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._sending: set[asyncio.Task[Any]] = set()
        """The tasks inside a send."""

    def sever(self) -> None:
        if not self._cut.done():
            self._cut.set_result(None)
            for task in self._sending:
                task.cancel()

    def wrap(self, receive: Any, send: Any) -> tuple[Any, Any]:
        async def guarded_receive() -> Any:
            done, got = await self._race(receive())
            return got if done else {"type": "websocket.disconnect", "code": 1008}

        async def guarded_send(message: dict[str, Any]) -> None:
            if self._cut.done():
                if message.get("type") != "websocket.close":
                    raise OSError("connection severed")
                return
            task = asyncio.current_task()
            assert task is not None
            self._sending.add(task)
            try:
                await send(message)
            except asyncio.CancelledError:
                if not self._cut.done():
                    raise  # cancelled by someone else (engine.io closing the writer)
                task.uncancel()
                if message.get("type") != "websocket.close":
                    raise OSError("connection severed") from None
            finally:
                self._sending.discard(task)

        return guarded_receive, guarded_send

    async def _race(self, operation: Coroutine[Any, Any, Any]) -> tuple[bool, Any]:
        """(True, the operation's result), or (False, None) once severed."""
        if self._cut.done():
            operation.close()
            return False, None
        task = asyncio.ensure_future(operation)
        try:
            await asyncio.wait({task, self._cut}, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            task.cancel()  # e.g. engine.io's ping timeout: nothing may read after us
            raise
        if task.done():
            return True, task.result()
        task.cancel()
        with contextlib.suppress(BaseException):
            await task
        return False, None


class EngineServer(engineio.AsyncServer):  # type: ignore[misc]
    def __init__(self, *args: Any, low_water: int, **kwargs: Any) -> None:
        self._low_water = low_water
        super().__init__(*args, **kwargs)

    def create_queue(self, *args: Any, **kwargs: Any) -> OutgoingQueue:
        return OutgoingQueue(self._low_water)


class RoomManager(socketio.AsyncManager):  # type: ignore[misc]
    """python-socketio's manager, knowing each socket's rooms so that a disconnect costs only
    its own rooms."""

    def __init__(self) -> None:
        super().__init__()
        self.rooms_of: dict[tuple[str, str], set[str | None]] = {}
        """(namespace, sid) -> the rooms it is in (None: the namespace's room of all)."""

    def basic_enter_room(
        self, sid: str, namespace: str, room: str | None, eio_sid: str | None = None
    ) -> None:
        super().basic_enter_room(sid, namespace, room, eio_sid=eio_sid)
        self.rooms_of.setdefault((namespace, sid), set()).add(room)

    def basic_leave_room(self, sid: str, namespace: str, room: str | None) -> None:
        super().basic_leave_room(sid, namespace, room)
        rooms = self.rooms_of.get((namespace, sid))
        if rooms is not None:
            rooms.discard(room)
            if not rooms:
                del self.rooms_of[namespace, sid]

    def basic_disconnect(self, sid: str, namespace: str, **kwargs: Any) -> None:
        # BaseManager.basic_disconnect, but leaving the socket's rooms without a scan.
        for room in list(self.rooms_of.get((namespace, sid), ())):
            self.basic_leave_room(sid, namespace, room)
        self.callbacks.pop(sid, None)
        for pending in (self.pending_connect, self.pending_disconnect):
            sids = pending.get(namespace)
            if sids is not None and sid in sids:
                sids.remove(sid)
                if not sids:
                    del pending[namespace]


class _Outlet:
    """An engine.io socket's queue, as the hub sees it (an `Outlet`)."""

    __slots__ = ("_eio_sid", "_queue", "_server", "_socket")

    def __init__(self, server: SocketServer, eio_sid: str, socket: Any) -> None:
        self._server = server
        self._eio_sid = eio_sid
        self._socket = socket
        self._queue: OutgoingQueue = socket.queue

    def depth(self) -> int | None:
        # engine.io marks a socket closed before it forgets it.
        return None if self._socket.closed else self._queue.qsize()

    def enqueue(self, frame: object) -> None:
        self._queue.put_nowait(frame)

    async def drained(self) -> None:
        if not self._socket.closed:
            await self._queue.drained.wait()

    async def sever(self, reason: str) -> None:
        await self._server.sever(self._eio_sid, reason)


class _Gone:
    """The outlet of a socket that went before the hub saw it."""

    def depth(self) -> int | None:
        return None

    def enqueue(self, frame: object) -> None:
        pass

    async def drained(self) -> None:
        pass

    async def sever(self, reason: str) -> None:
        pass


class SocketServer(socketio.AsyncServer):  # type: ignore[misc]
    """An AsyncServer whose EVENT packets go to `dispatch` after size and rate checks;
    anything malformed goes to `refuse` instead of raising. It is the hub's `Transport`."""

    def __init__(
        self,
        *,
        max_message_bytes: int,
        rate: float,
        burst: int,
        low_water: int,
        **kwargs: Any,
    ) -> None:
        self._low_water = low_water
        self._max_message_bytes = max_message_bytes
        self._rate = rate
        self._burst = burst
        self.dispatch: Dispatch | None = None
        self.refuse: Refusal | None = None
        super().__init__(client_manager=RoomManager(), **kwargs)

    def _engineio_server_class(self) -> type[EngineServer]:
        low_water = self._low_water

        class _Bound(EngineServer):
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, low_water=low_water, **kwargs)

        return _Bound

    def budget(self, scope: dict[str, Any]) -> FrameBudget:
        """The websocket's FrameBudget (made on first use)."""
        budget: FrameBudget | None = scope.get(BUDGET)
        if budget is None:
            budget = scope[BUDGET] = FrameBudget(self._rate, self._burst)
        return budget

    # -- the hub's Transport -----------------------------------------------------------

    def frame(self, event: str) -> Any:
        return eio_packet.Packet(eio_packet.MESSAGE, _EVENT + event)

    def outlet(self, sid: str) -> _Outlet | _Gone:
        eio_sid = self.manager.eio_sid_from_sid(sid, NAMESPACE)
        socket = self.eio.sockets.get(eio_sid)
        return _Gone() if socket is None else _Outlet(self, eio_sid, socket)

    def join(self, sid: str, room: str) -> None:
        self.manager.basic_enter_room(sid, NAMESPACE, room)

    def leave(self, sid: str, room: str) -> None:
        self.manager.basic_leave_room(sid, NAMESPACE, room)

    def members(self, rooms: Sequence[str]) -> Iterator[str]:
        return (sid for sid, _ in self.manager.get_participants(NAMESPACE, rooms))

    # -- the protocol's ---------------------------------------------------------------

    async def close(self, sid: str, reason: str, timeout: float) -> None:
        """Disconnect `sid` and close its websocket; severed if the client does not take the
        close within `timeout` seconds."""
        eio_sid = self.manager.eio_sid_from_sid(sid, NAMESPACE)
        await self.disconnect(sid)
        if eio_sid is None:
            return
        try:
            await asyncio.wait_for(self.eio.disconnect(eio_sid), timeout)
        except TimeoutError:
            await self.sever(eio_sid, reason)

    async def sever(self, eio_sid: str, reason: str) -> None:
        """End one socket at once: engine.io drops it and its websocket is cut, even while a
        send waits on a client that stopped reading."""
        scope = (self.environ.get(eio_sid) or {}).get("asgi.scope", {})
        socket = self.eio.sockets.get(eio_sid)
        if socket is not None:
            await socket.close(wait=False, abort=True, reason=reason)
        severance: Severance | None = scope.get(SEVERANCE)
        if severance is not None:
            severance.sever()

    async def _handle_eio_message(self, eio_sid: str, data: Any) -> None:
        assert self.dispatch is not None and self.refuse is not None
        sid = self.manager.sid_from_eio_sid(eio_sid, NAMESPACE)
        kind = data[:1] if isinstance(data, str) else None
        scope = (self.environ.get(eio_sid) or {}).get("asgi.scope", {})
        verdict = self.budget(scope).spend()
        if verdict == "cut":
            await self.sever(eio_sid, "rate_limited")
            return
        if kind in ("0", "1", "3"):  # connect, disconnect, ack: python-socketio's own
            if verdict == "refuse":
                return  # nothing to answer on
            try:
                await super()._handle_eio_message(eio_sid, data)
            except ValueError:
                if sid is not None:
                    await self.refuse(sid, None, "bad_request", "malformed packet")
            return
        if sid is None or not self.manager.is_connected(sid, NAMESPACE):
            return  # nothing to answer on: the namespace is not connected
        header = _EVENT_HEADER.match(data) if kind == "2" else None
        ack_id = int(header[2]) if header and header[2] and len(header[2]) < 16 else None
        if verdict == "refuse":
            await self.refuse(sid, ack_id, "rate_limited", "too many messages; slow down")
            return
        if header is None:
            await self.refuse(sid, None, "bad_request", "only JSON events are accepted")
            return
        if header[1] not in (None, NAMESPACE):
            await self.refuse(sid, ack_id, "bad_request", f"unknown namespace {header[1]}")
            return
        if len(data) > self._max_message_bytes:
            await self.refuse(
                sid, ack_id, "too_large", f"messages are limited to {self._max_message_bytes} bytes"
            )
            return
        try:
            decoded = self.packet_class(encoded_packet=data)
        except Exception:
            await self.refuse(sid, ack_id, "bad_request", "malformed packet")
            return
        args = decoded.data
        if not isinstance(args, list) or not args or not isinstance(args[0], str):
            await self.refuse(sid, ack_id, "bad_request", "an event needs a name")
            return
        task = asyncio.ensure_future(self.dispatch(sid, decoded.id, args))
        _running.add(task)
        task.add_done_callback(_running.discard)

    async def answer(self, sid: str, ack_id: int, payload: Any) -> None:
        """Acknowledge the client's message `ack_id` with `payload`."""
        eio_sid = self.manager.eio_sid_from_sid(sid, NAMESPACE)
        if eio_sid is not None:
            await self._send_packet(
                eio_sid,
                self.packet_class(sio_packet.ACK, namespace=NAMESPACE, id=ack_id, data=[payload]),
            )


# Handler tasks are referenced until done (the event loop keeps only weak references).
_running: set[asyncio.Future[None]] = set()

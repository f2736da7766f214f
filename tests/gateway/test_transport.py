"""The private behaviour of python-socketio/engine.io that gateway/transport.py relies on
(pinned in pyproject.toml): a release that changes it fails here, not in delivery. Sockets are
driven in memory through the ASGI interface, as uvicorn drives them."""

from __future__ import annotations

import ast
import asyncio
import contextlib
import itertools
import os
import random
from pathlib import Path
from typing import TYPE_CHECKING, Any

import engineio
import socketio

import flowmaestro
from flowmaestro.gateway.transport import (
    SEVERANCE,
    OutgoingQueue,
    RoomManager,
    Severance,
    SocketServer,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

WAIT = 5.0


class Wire:
    """One websocket client, in memory: what it sends and what reaches it. After `stall()`
    the server's next write waits (a client that stopped reading) until `resume()`."""

    def __init__(self, server: SocketServer) -> None:
        self.server = server
        self.inbound: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.outbound: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.reading = asyncio.Event()
        self.reading.set()
        self.stuck = asyncio.Event()
        """Set once a write waits on the stalled client."""
        self.severance = Severance()
        self.scope: dict[str, Any] = {
            "type": "websocket",
            "path": "/socket.io/",
            "query_string": b"EIO=4&transport=websocket",
            "headers": [(b"upgrade", b"websocket"), (b"connection", b"Upgrade")],
            "asgi": {"version": "3.0"},
            SEVERANCE: self.severance,
        }
        self.task: asyncio.Task[Any] | None = None

    async def open(self) -> str:
        """Connect engine.io then the Socket.IO namespace; the socket's sid."""
        receive, send = self.severance.wrap(self.inbound.get, self._write)
        await self.inbound.put({"type": "websocket.connect"})
        self.task = asyncio.create_task(self.server.handle_request(self.scope, receive, send))
        assert await self.message() == {"type": "websocket.accept"}
        assert (await self.text()).startswith("0{")
        self.send("40")
        connected = await self.text()
        assert connected.startswith("40{")
        sid = connected.split('"')[3]
        assert isinstance(sid, str)
        return sid

    async def _write(self, message: dict[str, Any]) -> None:
        if not self.reading.is_set() and message["type"] == "websocket.send":
            self.stuck.set()
            await self.reading.wait()
        await self.outbound.put(message)

    def stall(self) -> None:
        self.reading.clear()

    def resume(self) -> None:
        self.reading.set()

    def send(self, text: str) -> None:
        self.inbound.put_nowait({"type": "websocket.receive", "text": text})

    async def message(self) -> dict[str, Any]:
        return await asyncio.wait_for(self.outbound.get(), WAIT)

    async def text(self) -> str:
        message = await self.message()
        assert message["type"] == "websocket.send", message
        text = message["text"]
        assert isinstance(text, str)
        return text

    async def ended(self) -> None:
        assert self.task is not None
        await asyncio.wait_for(self.task, WAIT)


@contextlib.asynccontextmanager
async def socket_server() -> AsyncIterator[tuple[SocketServer, list[tuple[str, int | None, Any]]]]:
    """A SocketServer whose events are recorded and acknowledged with `{"ok": true}`."""
    server = SocketServer(
        async_mode="asgi",
        transports=["websocket"],
        max_message_bytes=1000,
        rate=1000.0,
        burst=100,
        low_water=1,
    )
    seen: list[tuple[str, int | None, Any]] = []

    async def dispatch(sid: str, ack_id: int | None, args: list[Any]) -> None:
        seen.append((sid, ack_id, args))
        if ack_id is not None:
            await server.answer(sid, ack_id, {"ok": True})

    async def refuse(sid: str, ack_id: int | None, code: str, message: str) -> None:
        seen.append((sid, ack_id, code))

    server.dispatch = dispatch
    server.refuse = refuse
    try:
        yield server, seen
    finally:
        await server.shutdown()


def test_only_the_transport_imports_socketio_or_engineio() -> None:
    """The seam: the Python client (a socketio.AsyncClient user) aside."""
    root = Path(flowmaestro.__file__).parent
    importers = set()
    for folder, _, files in os.walk(root, followlinks=True):
        for name in files:
            if not name.endswith(".py"):
                continue
            path = Path(folder, name)
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0:
                    modules = [node.module or ""]
                else:
                    continue
                if any(m.split(".")[0] in ("socketio", "engineio") for m in modules):
                    importers.add(path.relative_to(root).as_posix())
    assert importers == {"gateway/transport.py", "client/client.py"}


async def test_the_hooks_we_override_are_the_ones_python_socketio_calls() -> None:
    async with socket_server() as (server, _):
        assert "_engineio_server_class" in vars(socketio.AsyncServer)
        assert "_handle_eio_message" in vars(socketio.AsyncServer)
        assert isinstance(server.eio, engineio.AsyncServer)
        assert server.eio.handlers["message"] == server._handle_eio_message
        assert isinstance(server.eio.create_queue(), OutgoingQueue)


async def test_our_queue_tells_when_it_drains_through_asyncios_own_calls() -> None:
    queue = OutgoingQueue(low_water=1)
    assert queue.drained.is_set()
    queue.put_nowait("a")
    assert queue.drained.is_set()
    await queue.put("b")
    assert not queue.drained.is_set()
    assert queue.get_nowait() == "a"
    assert queue.drained.is_set()
    await queue.get()
    assert queue.drained.is_set()


async def test_a_frame_goes_out_as_a_socket_io_event_shared_by_every_socket() -> None:
    async with socket_server() as (server, _):
        wires = [Wire(server), Wire(server)]
        outlets = [server.outlet(await wire.open()) for wire in wires]
        assert all(isinstance(s.queue, OutgoingQueue) for s in server.eio.sockets.values())
        frame = server.frame('["node:progress",{"position":1}]')
        for outlet in outlets:
            outlet.enqueue(frame)
        for wire in wires:
            assert await wire.text() == '42["node:progress",{"position":1}]'
        assert frame.encode_cache == '42["node:progress",{"position":1}]'  # encoded once


async def test_events_reach_dispatch_and_acks_reach_the_client() -> None:
    async with socket_server() as (server, seen):
        wire = Wire(server)
        sid = await wire.open()
        wire.send('427["subscribe",{"channel":"execution:ex1"}]')
        assert await wire.text() == '437[{"ok":true}]'
        assert seen == [(sid, 7, ["subscribe", {"channel": "execution:ex1"}])]
        wire.send("42[")  # seen before decoding: refused, not raised
        wire.send('428["unsubscribe",{}]')
        assert await wire.text() == '438[{"ok":true}]'
        assert seen[1:] == [(sid, None, "bad_request"), (sid, 8, ["unsubscribe", {}])]


async def test_rooms_join_leave_and_list_their_members() -> None:
    async with socket_server() as (server, _):
        a, b = await Wire(server).open(), await Wire(server).open()
        server.join(a, "user:u1")
        server.join(a, "execution:ex1")
        server.join(b, "execution:ex1")
        assert sorted(server.members(["user:u1", "execution:ex1"])) == sorted([a, b])
        server.leave(a, "execution:ex1")
        assert list(server.members(["execution:ex1"])) == [b]
        assert list(server.members(["execution:none"])) == []


async def test_the_queue_depth_counts_frames_a_stalled_client_has_not_taken() -> None:
    async with socket_server() as (server, _):
        wire = Wire(server)
        outlet = server.outlet(await wire.open())
        assert outlet.depth() == 0
        frame = server.frame('["x",1]')
        wire.stall()
        outlet.enqueue(frame)
        await asyncio.wait_for(wire.stuck.wait(), WAIT)  # engine.io's writer took it
        for _ in range(4):
            outlet.enqueue(frame)
        assert outlet.depth() == 4
        draining = asyncio.create_task(outlet.drained())
        await asyncio.sleep(0)  # one turn: the drain has not come
        assert not draining.done()
        wire.resume()
        await asyncio.wait_for(draining, WAIT)
        for _ in range(5):
            assert await wire.text() == '42["x",1]'


async def test_sever_ends_a_socket_whose_writer_waits_on_a_client_that_stopped_reading() -> None:
    async with socket_server() as (server, _):
        wire = Wire(server)
        outlet = server.outlet(await wire.open())
        wire.stall()
        outlet.enqueue(server.frame('["x",1]'))
        await asyncio.wait_for(wire.stuck.wait(), WAIT)
        await outlet.sever("slow")
        await wire.ended()
        assert outlet.depth() is None
        await asyncio.wait_for(outlet.drained(), WAIT)  # a closed socket does not hold a replay


class _Ids:
    """Stands for the server a manager asks for sids."""

    def __init__(self) -> None:
        counter = itertools.count()
        self.eio = type("Eio", (), {"generate_id": staticmethod(lambda: f"s{next(counter)}")})


async def test_the_room_manager_keeps_the_same_state_as_python_socketios() -> None:
    ours, theirs = RoomManager(), socketio.AsyncManager()
    ours.server, theirs.server = _Ids(), _Ids()
    rng = random.Random(22)
    rooms = ["user:u1", "execution:ex1", "execution:ex2", "kb:k1"]
    sids: list[str] = []
    for step in range(2000):
        roll = rng.random()
        if roll < 0.2 or not sids:
            sid = await ours.pre_connect(f"e{step}", "/")
            assert await theirs.pre_connect(f"e{step}", "/") == sid
            sids.append(sid)
            if rng.random() < 0.7:  # else still connecting when it goes
                await ours.connect(sid, "/")
                await theirs.connect(sid, "/")
        elif roll < 0.5:
            sid, room = rng.choice(sids), rng.choice(rooms)
            ours.basic_enter_room(sid, "/", room)
            theirs.basic_enter_room(sid, "/", room)
        elif roll < 0.75:
            sid, room = rng.choice(sids), rng.choice(rooms)
            ours.basic_leave_room(sid, "/", room)
            theirs.basic_leave_room(sid, "/", room)
        else:
            sid = sids.pop(rng.randrange(len(sids)))
            for manager in (ours, theirs):
                manager.callbacks[sid] = {}
                manager.pre_disconnect(sid, "/")
                await manager.disconnect(sid, "/")
        assert ours.rooms == theirs.rooms
        assert (ours.callbacks, ours.pending_connect, ours.pending_disconnect) == (
            theirs.callbacks,
            theirs.pending_connect,
            theirs.pending_disconnect,
        )
    assert set(ours.rooms_of) == {("/", sid) for sid in sids}


class _Unscannable(dict[Any, Any]):
    def copy(self) -> dict[Any, Any]:
        raise AssertionError("a disconnect scanned every room of the namespace")

    def items(self) -> Any:
        raise AssertionError("a disconnect scanned every room of the namespace")


async def test_a_disconnect_leaves_only_the_sockets_own_rooms() -> None:
    manager = RoomManager()
    manager.server = _Ids()
    sids = [await manager.connect(f"e{i}", "/") for i in range(3)]
    manager.basic_enter_room(sids[0], "/", "execution:ex1")
    manager.basic_enter_room(sids[1], "/", "execution:ex1")
    manager.rooms["/"] = _Unscannable(manager.rooms["/"])
    await manager.disconnect(sids[0], "/")
    assert set(manager.rooms["/"]) == {None, sids[1], sids[2], "execution:ex1"}
    assert list(manager.rooms["/"]["execution:ex1"]) == [sids[1]]

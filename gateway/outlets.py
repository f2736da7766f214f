"""The seam between the hub and Socket.IO: what the hub needs from a transport.

`flowmaestro.gateway.transport` implements it over python-socketio/engine.io (the only module
that imports them); tests implement it in memory to check the hub's ordering rules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, TypeAlias

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

Frame: TypeAlias = object
"""One outgoing message as the transport queues it, made by `Transport.frame`; the hub only
passes it on (one frame is shared by every socket it is queued to)."""


class Outlet(Protocol):
    """One socket's outgoing queue."""

    def depth(self) -> int | None:
        """Frames queued and not yet written; None once the socket is closed."""
        ...

    def enqueue(self, frame: Frame) -> None:
        """Queue `frame` behind the socket's others (never blocks, never refuses: bounding
        the queue is the hub's job, through `depth`)."""
        ...

    async def drained(self) -> None:
        """Return once the queue is at its low-water mark or below (at once if it is)."""
        ...

    async def sever(self, reason: str) -> None:
        """End the socket at once, even while a write waits on a client that stopped reading."""
        ...


class Transport(Protocol):
    """Sockets, their rooms and their frames."""

    def frame(self, event: str) -> Frame:
        """The frame of one Socket.IO event, `event` being the JSON text of its arguments
        (`["name",data]`)."""
        ...

    def outlet(self, sid: str) -> Outlet:
        """The outgoing queue of the connected socket `sid`."""
        ...

    def join(self, sid: str, room: str) -> None: ...

    def leave(self, sid: str, room: str) -> None: ...

    def members(self, rooms: Sequence[str]) -> Iterable[str]:
        """The sockets in any of `rooms`, each once."""
        ...

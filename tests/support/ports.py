"""Loopback ports for the tests' servers."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A loopback port nothing listens on now (for a child process to bind; another process
    could take it first, so prefer `listening_socket` where the server takes a socket)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def listening_socket(send_buffer: int | None = None) -> socket.socket:
    """A socket already listening on a free loopback port: clients can connect at once and
    wait in its backlog. `send_buffer` fixes the kernel send buffer of accepted connections."""
    sock = socket.socket()
    if send_buffer is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, send_buffer)
    sock.bind(("127.0.0.1", 0))
    sock.listen(512)
    return sock

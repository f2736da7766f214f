"""The port check of `dev`: a listener is refused, a port held only by TIME_WAIT is free."""

from __future__ import annotations

import socket

from flowmaestro.dev.supervisor import port_in_use


def test_a_listening_port_is_in_use_and_its_time_wait_is_not() -> None:
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    assert port_in_use("127.0.0.1", port)
    # A served connection closed by the server first leaves (127.0.0.1, port) in TIME_WAIT,
    # as a stopped gateway does; a plain bind would be refused for about a minute.
    client = socket.create_connection(("127.0.0.1", port))
    served, _ = listener.accept()
    served.close()
    client.recv(1)  # the server's FIN has arrived
    client.close()
    listener.close()
    with socket.socket() as plain:
        try:
            plain.bind(("127.0.0.1", port))
            time_wait = False
        except OSError:
            time_wait = True
    assert time_wait, "the test needs the port in TIME_WAIT"
    assert not port_in_use("127.0.0.1", port)

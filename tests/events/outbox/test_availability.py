"""One dependency's state from many callers: an answer to a call that began before the
outage was noticed says nothing about now."""

from __future__ import annotations

import time

from flowmaestro.events.outbox import Availability


def test_a_call_in_flight_when_another_failed_does_not_end_the_outage() -> None:
    postgres = Availability("postgres")
    in_flight = time.monotonic()  # a statement sent before the crash
    postgres.lost(ConnectionRefusedError("refused"))
    postgres.back(in_flight)  # its answer arrives after another call failed
    assert not postgres.up and postgres.outages == 1
    postgres.back(time.monotonic())  # a call begun since then answered
    assert postgres.up and postgres.outages == 1

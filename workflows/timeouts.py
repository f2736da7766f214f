"""Activity timeouts that leave room for a database outage.

Every activity heartbeats for its whole run (activities/heartbeat.py), including while its
writes wait out a Postgres outage (activities/write_retry.py), so a dead worker's attempt is
retried after `HEARTBEAT`. The start-to-close timeout is only the limit for a live worker,
so it can afford room for the writes: one wait of up to the write deadline before the
activity's work and one after it (the largest deadline settings allow, as workflow code
cannot read the worker's settings).
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from flowmaestro.activities.write_retry import MAX_DEADLINE_SECONDS

HEARTBEAT = timedelta(seconds=30)
WRITE_ROOM = timedelta(seconds=2 * MAX_DEADLINE_SECONDS + 30)
"""Beyond an activity's own work (e.g. a node's timeout): time for its writes."""

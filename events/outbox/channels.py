"""Postgres NOTIFY channel names shared by writers, the sequencer and readers."""

from __future__ import annotations

# Emitters notify here once per transaction; the sequencer listens.
WRITTEN = "flowmaestro_outbox_written"
# The sequencer notifies here once per batch with the new head position; tails listen.
SEQUENCED = "flowmaestro_outbox_sequenced"

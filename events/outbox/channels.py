"""Postgres NOTIFY channel names shared by writers, the sequencer and readers."""

from __future__ import annotations

# Emitters notify here once per transaction; the sequencer listens.
WRITTEN = "flowmaestro_outbox_written"
# The sequencer notifies here once per batch with the new head position; tails listen.
SEQUENCED = "flowmaestro_outbox_sequenced"
# A leader that steps down (stopped, not crashed) notifies here after it unlocks; standbys
# listen, so the handover does not wait for their next try.
STEPPED_DOWN = "flowmaestro_sequencer_stepped_down"

"""The user's own events module (no relation to flowmaestro.events)."""

OWNER = "sample project"

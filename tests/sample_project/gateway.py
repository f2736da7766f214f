"""The user's own API gateway module (no relation to flowmaestro.gateway)."""

OWNER = "sample project"

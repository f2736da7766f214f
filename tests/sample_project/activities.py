"""The user's own activities (no relation to flowmaestro.activities)."""

from __future__ import annotations

from temporalio import activity

OWNER = "sample project"


@activity.defn
async def compose_greeting(name: str) -> str:
    return f"Hello, {name}!"

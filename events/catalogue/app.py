"""`app:<name>` events: custom events of the user's own workflows (`flowmaestro.temporal`).

An open family: any name matching `APP_NAME` is a valid type. Its `data` is any JSON object,
checked against the model the application registered for the name before it is written
(`flowmaestro.temporal.register_event`); the envelope and the limits are every event's.
"""

from __future__ import annotations

import re
from typing import Final

from pydantic import Field, JsonValue

from flowmaestro.events.model import Envelope

APP_PREFIX: Final = "app:"
APP_NAME: Final = r"[a-z0-9][a-z0-9_.\-]{0,63}"
"""A custom event's name: lower-case letters, digits, `_`, `.` and `-`, at most 64."""

_APP_TYPE = re.compile(rf"{re.escape(APP_PREFIX)}{APP_NAME}")


def is_app_type(type: str) -> bool:
    """Whether `type` names a custom event (`app:<name>`)."""
    return _APP_TYPE.fullmatch(type) is not None


class AppEvent(Envelope):
    type: str = Field(
        pattern=rf"^{re.escape(APP_PREFIX)}{APP_NAME}$",
        json_schema_extra={"tsType": "`app:${string}`"},
    )
    data: dict[str, JsonValue] = Field(
        # `unknown` in the generated TypeScript: its shape is the application's.
        json_schema_extra={"tsType": "unknown"},
    )

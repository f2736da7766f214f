"""Who owns a run: the `FlowMaestroUser` search attribute it was started with.

A run started with it (by any client: `start_options`, the `temporal` CLI's
`--search-attribute 'FlowMaestroUser="alice"'`, any SDK) is an execution of that user, with
the workflow id as its execution id. The workflow interceptor reads it once and hands it to
every activity the run schedules in a header, since an activity cannot see its workflow's
search attributes.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Final

from temporalio.api.common.v1 import Payload
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from flowmaestro.flows.search_attributes import USER
from flowmaestro.security import storable

HEADER: Final = "flowmaestro-execution"
"""The activity header that carries a tracked run's identity (absent: untracked)."""

MAX_USER_CHARS: Final = 200


def start_options(user: str) -> dict[str, Any]:
    """The keyword arguments that make a run `user`'s execution:
    `client.start_workflow(..., **start_options("alice"))`."""
    if not 0 < len(user) <= MAX_USER_CHARS or not storable(user):
        raise ValueError(f"a user id is 1 to {MAX_USER_CHARS} storable characters")
    return {"search_attributes": TypedSearchAttributes([SearchAttributePair(USER, user)])}


def owner_of(attributes: TypedSearchAttributes) -> str | None:
    """The owner a run was started with; None (untracked) when absent or unusable."""
    user = attributes.get(USER)
    if user is None or not 0 < len(user) <= MAX_USER_CHARS or not storable(user):
        return None
    return user


@dataclasses.dataclass(frozen=True, slots=True)
class RunIdentity:
    """A tracked run, as its activities learn it from `HEADER`."""

    user_id: str
    execution_id: str
    workflow_type: str
    run_id: str

    def payload(self) -> Payload:
        # Plain JSON, not the data converter's: the header is ours alone, whatever codec the
        # application's payloads use.
        return Payload(
            metadata={"encoding": b"json/plain"},
            data=json.dumps(dataclasses.asdict(self), sort_keys=True).encode(),
        )

    @classmethod
    def of(cls, payload: Payload) -> RunIdentity | None:
        try:
            fields = json.loads(payload.data)
            return cls(**{f.name: str(fields[f.name]) for f in dataclasses.fields(cls)})
        except (ValueError, TypeError, KeyError):
            return None

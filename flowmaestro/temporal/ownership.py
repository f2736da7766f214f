"""Who owns a run: the `FlowMaestroUser` search attribute it was started with.

A run started with it (by any client: `start_options`, the `temporal` CLI's
`--search-attribute 'FlowMaestroUser="alice"'`, any SDK) is an execution of that user, with
the workflow id as its execution id. The workflow interceptor reads it once and hands it to
every activity the run schedules in a header, since an activity cannot see its workflow's
search attributes.

Its workspace and visibility (docs/teams.md) ride in the run's memo under `MEMO` (a memo
needs no registration in the namespace): `{"workspace": "acme", "visibility": "workspace"}`;
absent, the run is private to its owner's personal workspace.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Final

from temporalio.api.common.v1 import Payload
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from flowmaestro.flows.messages import Visibility
from flowmaestro.flows.search_attributes import USER
from flowmaestro.security import storable

HEADER: Final = "flowmaestro-execution"
"""The activity header that carries a tracked run's identity (absent: untracked)."""

MEMO: Final = "flowmaestro"
"""The memo key of a run's workspace and visibility."""

MAX_USER_CHARS: Final = 200


def _name(text: str) -> bool:
    return 0 < len(text) <= MAX_USER_CHARS and storable(text)


def start_options(
    user: str, *, visibility: Visibility = "private", workspace: str | None = None
) -> dict[str, Any]:
    """The keyword arguments that make a run `user`'s execution:
    `client.start_workflow(..., **start_options("alice"))`. With `workspace` (as the user's
    token names it) the run is of that workspace, and `visibility="workspace"` lets every
    member of it watch (docs/teams.md); the team settings travel as the run's memo."""
    if not _name(user):
        raise ValueError(f"a user id is 1 to {MAX_USER_CHARS} storable characters")
    if workspace is not None and (not _name(workspace) or ":" in workspace):
        raise ValueError(f"a workspace is 1 to {MAX_USER_CHARS} storable characters, no ':'")
    if visibility not in ("private", "workspace"):
        raise ValueError("visibility is private or workspace")
    options: dict[str, Any] = {
        "search_attributes": TypedSearchAttributes([SearchAttributePair(USER, user)])
    }
    team = {"workspace": workspace} if workspace is not None else {}
    if visibility != "private":
        team["visibility"] = visibility
    if team:
        options["memo"] = {MEMO: team}
    return options


def team_of(memo: object) -> tuple[str | None, Visibility]:
    """The workspace and visibility a run's memo says (anything unusable: private, personal)."""
    if not isinstance(memo, dict):
        return None, "private"
    workspace = memo.get("workspace")
    if not isinstance(workspace, str) or not _name(workspace) or ":" in workspace:
        workspace = None
    visibility: Visibility = "workspace" if memo.get("visibility") == "workspace" else "private"
    return workspace, visibility


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

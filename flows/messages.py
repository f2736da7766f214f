"""The messages of `ExecutionWorkflow`: its input, the `provide_input` Update, the query.

Update `provide_input(ProvideInput) -> ProvideInputResult`. Its validator rejects, before
anything enters history, with `ApplicationError(message, *details, type=CODE,
non_retryable=True)` where CODE is one of `REJECTION_CODES`:
`not_found` (unknown input id), `invalid_input` (the answer fails the prompt's JSON Schema;
details[0] = {"errors": [{"path": "/x", "message": "..."}]}), `already_answered`, `expired`,
`forbidden` (the answerer is not one the prompt accepts: docs/teams.md).
Query `pending_inputs() -> list[PendingInput]`: prompts waiting for an answer.

Fields added since the first release (`workspace`, `visibility`, `answerer`) are left out of
a message while unused, so runs that use none of them keep the payloads they always had.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, field_validator

from flowmaestro.events.catalogue.user_input import Assignees, ClientKind
from flowmaestro.events.model import added_field
from flowmaestro.security import storable

PROVIDE_INPUT: Final = "provide_input"
PENDING_INPUTS: Final = "pending_inputs"

RejectionCode = Literal["not_found", "invalid_input", "already_answered", "expired", "forbidden"]
REJECTION_CODES: Final[tuple[RejectionCode, ...]] = (
    "not_found",
    "invalid_input",
    "already_answered",
    "expired",
    "forbidden",
)

Visibility = Literal["private", "workspace"]
"""Who of the owner's workspace may watch an execution: the owner only, or every member."""

_NAME = Field(min_length=1, max_length=200)

InputType = Literal["text", "number", "boolean", "choice", "json"]


class ExecutionInput(BaseModel):
    """The workflow's one argument; the execution id is the workflow id.

    `flow` and `inputs` are raw JSON, as any Temporal client sends them: the workflow's first
    activity checks them (a bad one fails the execution with `execution:failed`, it never
    fails a workflow task). `flow` is a flow document (`workflows.flow.Flow`).
    """

    model_config = ConfigDict(frozen=True)

    user_id: str = Field(min_length=1, max_length=200, description="the owner")
    workspace: str | None = added_field(
        min_length=1, max_length=200, description="the owner's workspace"
    )
    visibility: Visibility | None = added_field(
        description="who may watch (None: as the flow says, else private)"
    )

    @field_validator("user_id", "workspace")
    @classmethod
    def _storable(cls, name: str | None) -> str | None:
        # As a token's claims (gateway/auth.py): the owner is stored and routed by.
        if name is not None and not storable(name):
            raise ValueError("a NUL character or a lone surrogate cannot be stored")
        return name

    flow: JsonValue = Field(description="the flow document (FlowDocument)")
    inputs: JsonValue = Field(default_factory=dict, description="the flow's declared inputs")


class Answerer(BaseModel):
    """Who answers, as the gateway verified it from their token (a Temporal client may say
    it too: it is trusted)."""

    model_config = ConfigDict(frozen=True)

    user_id: str = _NAME
    workspace: str | None = None
    groups: list[str] = Field(default_factory=list, max_length=1000)
    client: ClientKind = "temporal"


class ProvideInput(BaseModel):
    """An answer to one prompt; `answerer` is who gives it (None: a Temporal client that
    does not say, accepted only by a prompt without assignees)."""

    model_config = ConfigDict(frozen=True)

    input_id: str
    value: JsonValue
    answerer: Answerer | None = added_field()


class ProvideInputResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    input_id: str
    node_id: str


class PendingInput(BaseModel):
    """A prompt waiting for an answer, as `user_input:required` announced it."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    input_id: str
    node_id: str
    prompt: str
    input_type: InputType
    answer_schema: dict[str, JsonValue] = Field(alias="schema")
    choices: list[JsonValue] | None = None
    timeout_seconds: float | None = None
    expires_at: datetime | None = None
    assignees: Assignees | None = None
    exclude_requester: bool = False

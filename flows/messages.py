"""The messages of `ExecutionWorkflow`: its input, the `provide_input` Update, the query.

Update `provide_input(ProvideInput) -> ProvideInputResult`. Its validator rejects, before
anything enters history, with `ApplicationError(message, *details, type=CODE,
non_retryable=True)` where CODE is one of `REJECTION_CODES`:
`not_found` (unknown input id), `invalid_input` (the answer fails the prompt's JSON Schema;
details[0] = {"errors": [{"path": "/x", "message": "..."}]}), `already_answered`, `expired`.
Query `pending_inputs() -> list[PendingInput]`: prompts waiting for an answer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, field_validator

from flowmaestro.security import storable

PROVIDE_INPUT: Final = "provide_input"
PENDING_INPUTS: Final = "pending_inputs"

RejectionCode = Literal["not_found", "invalid_input", "already_answered", "expired"]
REJECTION_CODES: Final[tuple[RejectionCode, ...]] = (
    "not_found",
    "invalid_input",
    "already_answered",
    "expired",
)

InputType = Literal["text", "number", "boolean", "choice", "json"]


class ExecutionInput(BaseModel):
    """The workflow's one argument; the execution id is the workflow id.

    `flow` and `inputs` are raw JSON, as any Temporal client sends them: the workflow's first
    activity checks them (a bad one fails the execution with `execution:failed`, it never
    fails a workflow task). `flow` is a flow document (`workflows.flow.Flow`).
    """

    model_config = ConfigDict(frozen=True)

    user_id: str = Field(min_length=1, max_length=200, description="the owner")

    @field_validator("user_id")
    @classmethod
    def _storable(cls, user_id: str) -> str:
        # As a token's `sub` (gateway/auth.py): the owner is stored and routed by.
        if not storable(user_id):
            raise ValueError("user_id: a NUL character or a lone surrogate cannot be stored")
        return user_id

    flow: JsonValue = Field(description="the flow document (FlowDocument)")
    inputs: JsonValue = Field(default_factory=dict, description="the flow's declared inputs")


class ProvideInput(BaseModel):
    """An answer to one prompt."""

    model_config = ConfigDict(frozen=True)

    input_id: str
    value: JsonValue


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

"""The `user_input` node's config, as a flow file states it."""

from __future__ import annotations

from typing import Any, ClassVar, Self

import jsonschema
from pydantic import Field, JsonValue, model_validator

from flowmaestro.events.catalogue.user_input import Assignees, InputType, OnTimeout
from flowmaestro.flows.nodes.base import NodeConfig, NodeType

_BASE_SCHEMAS: dict[str, dict[str, JsonValue]] = {
    "text": {"type": "string"},
    "number": {"type": "number"},
    "boolean": {"type": "boolean"},
    "json": {},
}


class UserInputConfig(NodeConfig):
    prompt: str = Field(min_length=1)
    input_type: InputType = "text"
    answer_schema: dict[str, JsonValue] | None = Field(default=None, alias="schema")
    """Extra JSON Schema keywords for the answer, merged over the input type's."""
    choices: list[JsonValue] | None = None
    timeout_seconds: float | None = Field(default=None, gt=0)
    on_timeout: OnTimeout = "fail"
    default: JsonValue = None
    """The answer used when the prompt times out with on_timeout: default."""
    assignees: Assignees | None = None
    """Who may answer (docs/teams.md); None: the execution's owner."""
    exclude_requester: bool = False
    """The execution's owner may not answer, even as an assignee."""

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if (self.input_type == "choice") != bool(self.choices):
            raise ValueError("choices are required for input_type choice, and only for it")
        if self.on_timeout != "fail" and self.timeout_seconds is None:
            raise ValueError(f"on_timeout {self.on_timeout} needs timeout_seconds")
        if self.on_timeout == "default" and "default" not in self.model_fields_set:
            raise ValueError("on_timeout default needs a default value")
        if self.assignees is not None and not (self.assignees.users or self.assignees.groups):
            raise ValueError("assignees name at least one user or group")
        jsonschema.Draft202012Validator.check_schema(answer_schema(self))
        return self


def answer_schema(config: UserInputConfig) -> dict[str, JsonValue]:
    """The JSON Schema an answer must satisfy."""
    base = {"enum": list(config.choices or [])} if config.input_type == "choice" else {}
    return {**_BASE_SCHEMAS.get(config.input_type, {}), **base, **(config.answer_schema or {})}


def answer_errors(schema: dict[str, Any], value: JsonValue) -> list[dict[str, str]]:
    """Why `value` fails `schema`: one {path (JSON Pointer), message} per error, [] if valid."""
    validator = jsonschema.Draft202012Validator(schema)
    return [
        {"path": "".join(f"/{p}" for p in error.absolute_path), "message": error.message}
        for error in sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path))
    ]


class UserInput(NodeType[UserInputConfig]):
    type_name: ClassVar[str] = "user_input"
    config_model = UserInputConfig
    templated_fields = frozenset({"prompt", "default"})
    waits_for_input = True

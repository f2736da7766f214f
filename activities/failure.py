"""How a node's exception is reported: message, type, and whether a retry could help."""

from __future__ import annotations

import dataclasses

from pydantic import ValidationError

from activities.errors import NodeError, TemplateError


@dataclasses.dataclass(frozen=True, slots=True)
class Failure:
    message: str
    type: str
    retryable: bool

    @classmethod
    def of(cls, exc: BaseException, timeout_seconds: float) -> Failure:
        if isinstance(exc, NodeError):
            return cls(exc.message, exc.type, exc.retryable)
        if isinstance(exc, TimeoutError):
            return cls(f"node timed out after {timeout_seconds:g}s", "timeout", True)
        if isinstance(exc, TemplateError):
            return cls(str(exc), "template_error", False)
        if isinstance(exc, ValidationError):
            first = exc.errors(include_url=False)[0]
            where = ".".join(str(p) for p in first["loc"]) or "config"
            return cls(f"config {where}: {first['msg']}", "invalid_config", False)
        return cls(str(exc) or type(exc).__name__, type(exc).__name__, True)

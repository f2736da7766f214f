"""The `http` node's config, as a flow file states it."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, JsonValue, field_validator

from flowmaestro.flows.nodes.base import NodeConfig, NodeType


class HttpConfig(NodeConfig):
    url: str
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"] = "GET"
    headers: dict[str, str] = Field(default_factory=dict)
    json_body: JsonValue = Field(default=None, alias="json")
    timeout_seconds: float = Field(default=10, gt=0, le=300)
    max_response_bytes: int = Field(default=1 << 20, gt=0, le=64 << 20)
    allowed_hosts: list[str] | None = None
    """Host names (or `*.suffix`) this node may reach, redirects included; None: any the
    operator's egress policy allows. It can only narrow that policy."""

    @field_validator("url")
    @classmethod
    def _http_only(cls, url: str) -> str:
        if not url.startswith(("http://", "https://")):
            raise ValueError("url must start with http:// or https://")
        return url


class Http(NodeType[HttpConfig]):
    type_name: ClassVar[str] = "http"
    config_model = HttpConfig

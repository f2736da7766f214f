"""The `delay` node's config, as a flow file states it."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from flowmaestro.flows.nodes.base import NodeConfig, NodeType


class DelayConfig(NodeConfig):
    seconds: float = Field(ge=0, le=7 * 24 * 3600)
    reports: int = Field(default=4, ge=1, le=100)
    """How many `node:progress` events the wait is split into."""


class Delay(NodeType[DelayConfig]):
    type_name: ClassVar[str] = "delay"
    config_model = DelayConfig

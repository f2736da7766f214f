"""The `transform` node's config, as a flow file states it."""

from __future__ import annotations

from typing import ClassVar

from pydantic import JsonValue

from flowmaestro.flows.nodes.base import NodeConfig, NodeType


class TransformConfig(NodeConfig):
    output: JsonValue
    """Any JSON; its templated strings are rendered before the node runs."""


class Transform(NodeType[TransformConfig]):
    type_name: ClassVar[str] = "transform"
    config_model = TransformConfig

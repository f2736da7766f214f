"""Every node type flow files may use, as the flow's checks see them (configs, branches,
which fields may be templates). The worker runs each through an executor of the same type."""

from __future__ import annotations

from typing import Any

from flowmaestro.flows.nodes.agent import Agent
from flowmaestro.flows.nodes.base import NodeType, NodeTypes
from flowmaestro.flows.nodes.condition import Condition
from flowmaestro.flows.nodes.delay import Delay
from flowmaestro.flows.nodes.http import Http
from flowmaestro.flows.nodes.kb_ingest import KbIngest
from flowmaestro.flows.nodes.transform import Transform
from flowmaestro.flows.nodes.user_input import UserInput

NODE_TYPES: NodeTypes[NodeType[Any]] = NodeTypes(
    Transform, Http, Delay, Condition, UserInput, Agent, KbIngest
)

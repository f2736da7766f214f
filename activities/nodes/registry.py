"""Every node type the worker runs and flow files may use."""

from __future__ import annotations

from activities.nodes.agent import AgentExecutor
from activities.nodes.base import NodeRegistry
from activities.nodes.condition import ConditionExecutor
from activities.nodes.delay import DelayExecutor
from activities.nodes.http import HttpExecutor
from activities.nodes.kb_ingest import KbIngestExecutor
from activities.nodes.transform import TransformExecutor
from activities.nodes.user_input import UserInputExecutor

NODE_TYPES = NodeRegistry(
    TransformExecutor,
    HttpExecutor,
    DelayExecutor,
    ConditionExecutor,
    UserInputExecutor,
    AgentExecutor,
    KbIngestExecutor,
)

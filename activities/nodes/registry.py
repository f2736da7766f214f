"""Every node type the worker runs and flow files may use."""

from __future__ import annotations

from flowmaestro.activities.nodes.agent import AgentExecutor
from flowmaestro.activities.nodes.base import NodeRegistry
from flowmaestro.activities.nodes.condition import ConditionExecutor
from flowmaestro.activities.nodes.delay import DelayExecutor
from flowmaestro.activities.nodes.http import HttpExecutor
from flowmaestro.activities.nodes.kb_ingest import KbIngestExecutor
from flowmaestro.activities.nodes.transform import TransformExecutor
from flowmaestro.activities.nodes.user_input import UserInputExecutor

NODE_TYPES = NodeRegistry(
    TransformExecutor,
    HttpExecutor,
    DelayExecutor,
    ConditionExecutor,
    UserInputExecutor,
    AgentExecutor,
    KbIngestExecutor,
)

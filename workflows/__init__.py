"""Flow definitions, ExecutionWorkflow, KnowledgeBaseIngestWorkflow, the worker, start_execution()."""

from __future__ import annotations

from flowmaestro.flows.start import start_execution

__all__ = ["start_execution"]

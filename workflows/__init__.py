"""Flow definitions, ExecutionWorkflow, KnowledgeBaseIngestWorkflow, the worker, start_execution()."""

from __future__ import annotations

from flowmaestro.workflows.start import start_execution

__all__ = ["start_execution"]

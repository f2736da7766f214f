"""Flow definitions, ExecutionWorkflow, KnowledgeBaseIngestWorkflow, the worker, start_execution()."""

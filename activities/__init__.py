"""Node executors, the agent runner and model providers, knowledge-base ingestion steps."""

"""The agent: model providers, the tool-calling loop, token coalescing and built-in tools."""

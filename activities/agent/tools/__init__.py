"""Built-in tools an agent may be given: `calculator`, `http_get`, `kb_search`."""

"""Node executors, one module per node type; `registry.NODE_TYPES` lists them."""

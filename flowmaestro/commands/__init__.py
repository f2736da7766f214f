"""One module per CLI command; `flowmaestro.cli` registers them."""

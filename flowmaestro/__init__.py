"""The composition root: settings, the CLI, the embedded dev stack."""

"""The sequencer fixture moved to tests/conftest.py; `running` stays importable from here."""

from __future__ import annotations

from tests.conftest import running

__all__ = ["running"]

"""Composing state patches: applying the composed list is applying every patch in order
(RFC 7386 merges, checked against a reference merge over generated patch sequences)."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from flowmaestro.events.execution_state import composed


def merge(target: Any, patch: Any) -> Any:
    """RFC 7386, as written in the RFC."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge(result.get(key), value)
    return result


KEYS = st.sampled_from(["status", "nodes", "a", "b", "pendingInputs"])
LEAVES = st.one_of(st.none(), st.integers(0, 3), st.lists(st.integers(0, 3), max_size=2))
PATCHES = st.recursive(
    LEAVES, lambda inner: st.dictionaries(KEYS, inner, max_size=3), max_leaves=8
).filter(lambda p: isinstance(p, dict))
EXECUTIONS = st.sampled_from(["ex_1", "ex_2"])


@given(st.lists(st.tuples(EXECUTIONS, PATCHES), max_size=12))
def test_composed_patches_do_what_the_patches_do(patches: list[tuple[str, Any]]) -> None:
    def apply(sequence: list[tuple[str, Any]]) -> dict[str, Any]:
        states: dict[str, Any] = {"ex_1": {"nodes": {"n": {"x": 1}}, "a": 5}, "ex_2": {}}
        for execution_id, patch in sequence:
            states[execution_id] = merge(states[execution_id], patch)
        return states

    together = composed(patches)
    assert apply(together) == apply(patches)
    assert len(together) <= len(patches)


def test_a_deletion_then_a_merge_stays_two_patches() -> None:
    patches: list[tuple[str, dict[str, Any]]] = [("ex_1", {"a": None}), ("ex_1", {"a": {"b": 1}})]
    assert composed(patches) == patches
    progress = [("ex_1", {"nodes": {"n": {"progress": p}}}) for p in (10, 20, 30)]
    assert composed(progress) == [("ex_1", {"nodes": {"n": {"progress": 30}}})]

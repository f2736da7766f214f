"""Loading flows: the examples load; bad flows are refused naming the node and the problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowmaestro.activities.nodes.registry import NODE_TYPES
from flowmaestro.flows.errors import FlowError, FlowInputError
from flowmaestro.flows.flow import load_flow
from flowmaestro.flows.messages import ExecutionInput

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.parametrize("name", ["parallel.yaml", "approval.yaml", "retry.yaml"])
def test_examples_load_and_survive_the_data_converter(name: str) -> None:
    flow = load_flow(EXAMPLES / name)
    carried = ExecutionInput(
        user_id="u1", flow=flow.model_dump(mode="json", exclude_unset=True), inputs={}
    )
    raw = ExecutionInput.model_validate_json(carried.model_dump_json()).flow
    assert isinstance(raw, dict)
    again = load_flow(raw)
    assert again == flow and again.order == flow.order


def test_order_and_references() -> None:
    flow = load_flow(EXAMPLES / "parallel.yaml")
    assert flow.order == ["prepare", "headline", "pause", "score", "combine"]
    assert flow.references("combine") == {"headline", "score"}
    assert flow.sinks() == ["combine"]


def test_json_text_loads_too() -> None:
    flow = load_flow(
        '{"name": "j", "nodes": [{"id": "a", "type": "delay", "config": {"seconds": 1}}]}'
    )
    assert flow.order == ["a"]


def test_parsed_json_loads_and_is_checked_the_same_way() -> None:
    nodes = [{"id": "a", "type": "delay", "config": {"seconds": 1}}, {"id": "b", "type": "x"}]
    assert load_flow({"name": "d", "nodes": nodes[:1]}).order == ["a"]
    with pytest.raises(FlowError, match=r"^node 'b': unknown node type 'x'"):
        load_flow({"name": "d", "nodes": nodes})
    with pytest.raises(FlowError, match=r"^node 'a': config.seconds: Field required"):
        load_flow({"name": "d", "nodes": [{"id": "a", "type": "delay"}]})


def _node(node_id: str, type: str = "transform", **extra: str) -> str:
    fields = ", ".join(f"{k}: {v}" for k, v in {"config": "{output: 1}", **extra}.items())
    return f"  - {{id: {node_id}, type: {type}, {fields}}}\n"


BAD = {
    "cycle": (
        "name: x\ninputs: {}\nnodes:\n"
        + _node("a", after="[c]")
        + _node("b", after="[a]")
        + _node("c", after="[b]"),
        "node 'a': cycle in after: a -> c -> b -> a",
    ),
    "unknown type": (
        "name: x\nnodes:\n" + _node("a", "teleport"),
        f"node 'a': unknown node type 'teleport' (known: {', '.join(sorted(NODE_TYPES))})",
    ),
    "after names no node": (
        "name: x\nnodes:\n" + _node("a") + _node("b", after="[ghost]"),
        "node 'b': after names no node 'ghost'",
    ),
    "template reads a later node": (
        "name: x\nnodes:\n" + _node("a", config="{output: '{{ nodes.b }}'}") + _node("b"),
        "node 'a': template refers to node 'b', which does not precede it (add it to after)",
    ),
    "template reads a parallel node": (
        "name: x\nnodes:\n"
        + _node("a")
        + _node("b")
        + _node("c", after="[a]", config="{output: '{{ nodes.b }}'}"),
        "node 'c': template refers to node 'b', which does not precede it (add it to after)",
    ),
    "template reads an unknown node": (
        "name: x\nnodes:\n" + _node("a", config="{output: '{{ nodes.zz.x }}'}"),
        "node 'a': template refers to unknown node 'zz'",
    ),
    "template reads an undeclared input": (
        "name: x\nnodes:\n" + _node("a", config="{output: '{{ inputs.nope }}'}"),
        "node 'a': template refers to undeclared input 'nope'",
    ),
    "template with a free name": (
        "name: x\nnodes:\n" + _node("a", config="{output: '{{ os.system }}'}"),
        "node 'a': config: template '{{ os.system }}': unknown name 'os' (use inputs.<name> or nodes.<id>)",
    ),
    "template syntax": (
        "name: x\nnodes:\n" + _node("a", config="{output: '{{ 1 + }}'}"),
        "node 'a': config: template '{{ 1 + }}': syntax error: unexpected 'end of print statement'",
    ),
    "bad config value": (
        "name: x\nnodes:\n" + _node("a", "delay", config="{seconds: -1}"),
        "node 'a': config.seconds: Input should be greater than or equal to 0",
    ),
    "unknown config key": (
        "name: x\nnodes:\n" + _node("a", "delay", config="{seconds: 1, sleep: 2}"),
        "node 'a': config.sleep: Extra inputs are not permitted",
    ),
    "template where a literal is required": (
        "name: x\ninputs: {t: {}}\nnodes:\n"
        + _node("a", "user_input", config="{prompt: hi, timeout_seconds: '{{ inputs.t }}'}"),
        "node 'a': config.timeout_seconds: templates are not allowed here",
    ),
    "choice without choices": (
        "name: x\nnodes:\n" + _node("a", "user_input", config="{prompt: hi, input_type: choice}"),
        "node 'a': config: Value error, choices are required for input_type choice, and only for it",
    ),
    "branch target does not wait for the condition": (
        "name: x\nnodes:\n" + _node("c", "condition", config="{if: true, then: [b]}") + _node("b"),
        "node 'c': branch target 'b' must list 'c' in after",
    ),
    "duplicate id": (
        "name: x\nnodes:\n" + _node("a") + _node("a"),
        "node 'a': duplicate node id",
    ),
    "bad node id": (
        "name: x\nnodes:\n" + _node("'a-b'"),
        "node 'a-b': id: String should match pattern '^[A-Za-z_][A-Za-z0-9_]*$'",
    ),
    "bad retry": (
        "name: x\nnodes:\n" + _node("a", retry="{max_attempts: -1}"),
        "node 'a': retry.max_attempts: Input should be greater than or equal to 0",
    ),
    "no nodes": (
        "name: x\nnodes: []\n",
        "flow: nodes: Tuple should have at least 1 item after validation, not 0",
    ),
    "not a mapping": (
        "- just\n- a list\n",
        "flow: a flow is a mapping with name, inputs and nodes",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_flows_are_refused_naming_node_and_problem(case: str) -> None:
    text, message = BAD[case]
    with pytest.raises(FlowError) as refused:
        load_flow(text)
    assert str(refused.value) == message


def test_inputs_are_checked_and_defaulted() -> None:
    flow = load_flow(EXAMPLES / "approval.yaml")
    assert flow.resolve_inputs({"amount": 5}) == {"amount": 5, "requester": "someone"}
    with pytest.raises(FlowInputError, match="input 'amount': required"):
        flow.resolve_inputs({})
    with pytest.raises(FlowInputError, match="input 'amount': expected number, got 'lots'"):
        flow.resolve_inputs({"amount": "lots"})
    with pytest.raises(FlowInputError, match="input 'color': not declared"):
        flow.resolve_inputs({"amount": 1, "color": "red"})


def test_a_yaml_syntax_error_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("name: x\nnodes:\n  - id: a\n   type: transform\n")
    for source in (path, str(path)):
        with pytest.raises(FlowError) as caught:
            load_flow(source)
        message = str(caught.value)
        assert f'in "{path}", line 4' in message
        assert "<unicode string>" not in message
    with pytest.raises(FlowError, match='in "the flow document", line 2'):
        load_flow("{name: [\n")

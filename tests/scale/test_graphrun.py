"""The model's graph run in an order worked out once (orderdesk.servers.graphrun) gives Rasa's dask run's
results: the same parse for messages of every flow, the same prediction at every turn of the stories, and
Rasa's errors."""
from __future__ import annotations

from pathlib import Path

import pytest

from support import trained_model
from test_state_window import _action_positions, _prediction, _tracker, long_conversation

ROOT = Path(__file__).resolve().parents[2]
MESSAGES = ["why is there no cancel button", "how do I get a refund for 8100000000000002", "yes please",
            "the seller rejected my cancellation", "my email is ana@example.com", "🙂🙂", "asdkjh qwe",
            "I want to open a dispute, it never arrived", "talk to a human", "x" * 3000]


@pytest.fixture(scope="module")
def agent():
    from rasa.core.agent import Agent

    return Agent.load(str(trained_model()))


def _parse(agent, text: str) -> dict:
    import asyncio

    from rasa.core.channels.channel import UserMessage

    parsed = asyncio.run(agent.processor.parse_message(UserMessage(text)))
    return {k: v for k, v in parsed.items() if k != "message_id"}


def test_parses_and_predictions_are_rasa_s(agent):
    from orderdesk.servers import graphrun

    domain = agent.domain
    events = long_conversation(domain, 1)
    positions = _action_positions(events, 120)
    graphrun.uninstall()
    try:
        rasa_parses = [_parse(agent, m) for m in MESSAGES]
        rasa_predictions = [_prediction(agent, _tracker(domain, events[:end])) for end in positions]
        assert graphrun.install()
        parses = [_parse(agent, m) for m in MESSAGES]
        predictions = [_prediction(agent, _tracker(domain, events[:end])) for end in positions]
        plans = agent.processor.graph_runner.__dict__[graphrun.PLANS]
    finally:
        graphrun.uninstall()
    assert parses == rasa_parses
    assert predictions == rasa_predictions and len(predictions) == 120
    assert len(plans) >= 2  # the NLU targets and the policies' targets, each worked out once


def test_every_node_runs_after_the_nodes_it_needs_and_only_the_needed_ones(agent):
    from orderdesk.servers.graphrun import plan_for

    runner = agent.processor.graph_runner
    schema = runner._graph_schema
    target = agent.processor.model_metadata.core_target
    plan = plan_for(runner, (target,))
    seen: set[str] = set()
    for name, node, needs in plan.steps:
        assert node is runner._instantiated_nodes[name]
        assert all(n in seen or n not in schema.nodes for n in needs)
        seen.add(name)
    assert seen == set(schema.minimal_graph_schema([target]).nodes)
    assert plan_for(runner, (target,)) is plan


def test_an_input_named_like_a_node_is_refused_as_rasa_refuses_it(agent):
    from rasa.engine.exceptions import GraphRunError

    from orderdesk.servers import graphrun

    runner = agent.processor.graph_runner
    target = agent.processor.model_metadata.core_target
    node = next(iter(runner._graph_schema.minimal_graph_schema([target]).nodes))
    with pytest.raises(GraphRunError, match="clashes with a node name"):
        graphrun.run(runner, inputs={"__tracker__": node}, targets=[target])

"""DIET and TED called through their traced graph directly (orderdesk.servers.tfcall) give what Rasa's own
`tf.function` call gives: the same parse for messages of every flow (intent ranking, confidences, entities) and
the same prediction, TED's included, at every turn of a long conversation."""
from __future__ import annotations

import pytest

from support import trained_model
from test_graphrun import MESSAGES, _parse
from test_state_window import _action_positions, _prediction, _tracker, long_conversation


@pytest.fixture(scope="module")
def agent():
    from rasa.core.agent import Agent

    return Agent.load(str(trained_model()))


def _ted_probabilities(agent, tracker) -> list:
    """TED's own probabilities for the tracker (its prediction, not the ensemble's choice)."""
    ted = next(node for name, node in agent.processor.graph_runner._instantiated_nodes.items()
               if "TEDPolicy" in name)._component
    return ted.predict_action_probabilities(tracker, agent.domain).probabilities


def test_parses_and_predictions_are_rasa_s(agent):
    from orderdesk.servers import tfcall

    domain = agent.domain
    events = long_conversation(domain, 1)
    positions = _action_positions(events, 60)
    trackers = [_tracker(domain, events[:end]) for end in positions]
    tfcall.uninstall()
    try:
        rasa_parses = [_parse(agent, m) for m in MESSAGES]
        rasa_predictions = [_prediction(agent, t) for t in trackers]
        rasa_ted = [_ted_probabilities(agent, t) for t in trackers]
        assert tfcall.install()
        parses = [_parse(agent, m) for m in MESSAGES]
        predictions = [_prediction(agent, t) for t in trackers]
        ted = [_ted_probabilities(agent, t) for t in trackers]
        direct = [node._component.model for node in agent.processor.graph_runner._instantiated_nodes.values()
                  if "_orderdesk_direct" in getattr(getattr(node._component, "model", None), "__dict__", {})]
    finally:
        tfcall.uninstall()
    assert parses == rasa_parses
    assert predictions == rasa_predictions and len(predictions) == 60
    assert ted == rasa_ted
    assert len(direct) == 2  # DIET and TED each went the direct way


def test_switched_off_it_leaves_rasa_alone(monkeypatch):
    from rasa.utils.tensorflow.models import RasaModel

    from orderdesk.servers import tfcall

    before = RasaModel._rasa_predict
    monkeypatch.setenv(tfcall.ENV, "0")
    assert tfcall.install() is False
    assert RasaModel._rasa_predict is before

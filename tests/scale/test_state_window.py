"""The policies' states from the end of a long conversation (orderdesk.servers.states) are Rasa's own, TED
left out when a rule or a memorised story decides (orderdesk.servers.prediction) and the rule lookup narrowed
by the last action (orderdesk.servers.rules) change nothing: same states for every policy, same rules found,
same prediction at every turn.

Long conversations are made of the dialogue test stories and the training stories played one after another in
one session (hundreds of turns, forms, rules, slots); the trained model predicts every action of the last part
with the window and without it.
"""
from __future__ import annotations

import itertools
from collections import Counter
from pathlib import Path

import pytest

from support import trained_model

ROOT = Path(__file__).resolve().parents[2]
STORY_FILES = sorted((ROOT / "tests" / "stories").glob("*.yml")) + sorted((ROOT / "data" / "stories").glob("*.yml"))


@pytest.fixture(scope="module")
def agent():
    from rasa.core.agent import Agent

    return Agent.load(str(trained_model()))


def _policies(agent) -> dict[str, object]:
    found = {}
    for node in agent.processor.graph_runner._instantiated_nodes.values():
        component = getattr(node, "_component", None)
        if component is not None and type(component).__name__ in ("MemoizationPolicy", "RulePolicy", "TEDPolicy"):
            found[type(component).__name__] = component
    return found


def long_conversation(domain, rounds: int = 3):
    """The stories' events (intents, actions, slots, forms) one after another in one tracker, an action_listen
    before every user message, as a conversation records them."""
    from rasa.shared.core.constants import ACTION_LISTEN_NAME
    from rasa.shared.core.events import ActionExecuted, UserUttered
    from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader

    steps = []
    for path in STORY_FILES:
        for step in YAMLStoryReader(domain).read_from_file(str(path)):
            if all(not isinstance(e, UserUttered) or e.intent_name for e in step.events):
                steps.append(step)  # stories with user text (end-to-end) need the NLU features: left out
    events = [ActionExecuted(ACTION_LISTEN_NAME)]
    for step in itertools.islice(itertools.cycle(steps), rounds * len(steps)):
        for e in step.events:
            if isinstance(e, UserUttered) and not (isinstance(events[-1], ActionExecuted)
                                                   and events[-1].action_name == ACTION_LISTEN_NAME):
                events.append(ActionExecuted(ACTION_LISTEN_NAME))
            events.append(e)
    return events


def _tracker(domain, events):
    from rasa.shared.core.trackers import DialogueStateTracker

    return DialogueStateTracker.from_events("window-test", events, domain.slots)


def _action_positions(events, last: int):
    from rasa.shared.core.events import ActionExecuted

    positions = [i for i, e in enumerate(events) if isinstance(e, ActionExecuted)]
    return positions[-last:]


def test_the_window_gives_rasa_s_states_for_every_policy(agent):
    from orderdesk.servers import states

    domain = agent.domain
    policies = _policies(agent)
    assert set(policies) == {"MemoizationPolicy", "RulePolicy", "TEDPolicy"}
    rule_only = policies["RulePolicy"]._get_rule_only_data()
    events = long_conversation(domain)
    states.uninstall()
    checked = trimmed = 0
    for end in _action_positions(events, 150):
        tracker = _tracker(domain, events[:end])
        full_rule = domain.states_for_tracker_history(tracker)
        full_ml = domain.states_for_tracker_history(tracker, ignore_rule_only_turns=True, rule_only_data=rule_only)
        window = states.rule_window(policies["RulePolicy"])
        got = states.windowed_states(domain, tracker, window)
        if got is not None:
            trimmed += 1
            assert got[-window:] == full_rule[-window:]
        for name in ("MemoizationPolicy", "TEDPolicy"):
            n = policies[name].featurizer.max_history
            if n is None:
                continue  # the whole session is its key: Rasa's own states
            got = states.windowed_states(domain, tracker, n, ignore_rule_only_turns=True, rule_only_data=rule_only)
            if got is not None:
                trimmed += 1
                assert got[-n:] == full_ml[-n:]
        checked += 1
    assert checked == 150 and trimmed >= 2 * 150  # the window was used, not Rasa's fallback


def _prediction(agent, tracker):
    p = agent.processor._predict_next_with_tracker(tracker)
    return (p.policy_name, [round(x, 6) for x in p.probabilities], p.is_end_to_end_prediction,
            p.is_no_user_prediction, p.hide_rule_turn,
            [{k: v for k, v in e.as_dict().items() if k != "timestamp"} for e in p.events])


@pytest.mark.parametrize("rounds,last", [(1, 150), (3, 100)], ids=["every turn of the stories", "a long conversation"])
def test_the_shortcuts_give_rasa_s_predictions(agent, rounds, last):
    from orderdesk.servers import prediction, rules, states

    domain = agent.domain
    events = long_conversation(domain, rounds)
    positions = _action_positions(events, last)
    states.uninstall()
    prediction.uninstall()
    rules.uninstall()
    try:
        full = [_prediction(agent, _tracker(domain, events[:end])) for end in positions]
        assert states.install() and prediction.install() and rules.install()
        prediction.stats.update(shortcut=0, full=0)
        fast = [_prediction(agent, _tracker(domain, events[:end])) for end in positions]
    finally:
        states.uninstall()
        prediction.uninstall()
        rules.uninstall()
    assert len(full) == min(last, len(positions)) and len(full) >= 100
    assert fast == full
    assert "RulePolicy" in {p[0] for p in full}
    assert prediction.stats["shortcut"] > 0  # TED was left out (in these stories a rule decides every turn)


def test_the_rule_index_finds_the_rules_rasa_finds(agent):
    """Every rule and every forms' unhappy-path rule that Rasa's lookup finds at each turn of the stories, and
    only those, whatever action came last."""
    from rasa.core.policies.rule_policy import RULES, RULES_FOR_LOOP_UNHAPPY_PATH

    from orderdesk.servers import rules

    domain = agent.domain
    policy = _policies(agent)["RulePolicy"]
    rules.uninstall()
    rule_only = policy._get_rule_only_data()
    events = long_conversation(domain, 1)
    found = Counter()
    for end in _action_positions(events, 10_000):
        tracker = _tracker(domain, events[:end])
        states = policy._prediction_states(tracker, domain, False, rule_only_data=rule_only)
        for table in (RULES, RULES_FOR_LOOP_UNHAPPY_PATH):
            lookup = policy.lookup[table]
            expected = policy._get_possible_keys(lookup, states)
            assert rules.possible_keys(policy, lookup, states) == expected
            found[table] += bool(expected)
    assert rules.possible_keys(policy, policy.lookup[RULES], []) == set(policy.lookup[RULES])
    assert found[RULES] >= 100 and found[RULES_FOR_LOOP_UNHAPPY_PATH] >= 10  # the comparison saw real matches


def _prediction_of(policy: str, priority: int, best: int, confidence: float, n: int = 6, **flags):
    from rasa.core.policies.policy import PolicyPrediction

    probabilities = [0.0] * n
    probabilities[best] = confidence
    return PolicyPrediction(probabilities, policy, priority, **flags)


def test_ted_is_left_out_only_when_it_cannot_win():
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, ActionExecutionRejected
    from rasa.shared.core.trackers import DialogueStateTracker

    from orderdesk.servers.prediction import decisive

    domain = Domain.from_dict({"intents": ["greet"], "actions": ["action_a", "action_b"]})
    a = domain.index_for_action("action_a")
    tracker = DialogueStateTracker.from_events("t", [ActionExecuted("action_listen")], domain.slots)
    n = domain.num_actions
    rule = _prediction_of("RulePolicy", 6, a, 1.0, n)
    memo = _prediction_of("MemoizationPolicy", 3, a, 1.0, n)
    unsure = _prediction_of("RulePolicy", 6, a, 0.3, n)  # the rule policy's fallback score: TED decides
    assert decisive([memo, rule], tracker, domain, ted_priority=1)
    assert decisive([_prediction_of("MemoizationPolicy", 3, a, 0.0, n), rule], tracker, domain, 1)
    assert not decisive([_prediction_of("MemoizationPolicy", 3, a, 0.0, n), unsure], tracker, domain, 1)
    assert not decisive([rule], tracker, domain, ted_priority=7)  # TED would win a tie
    rejected = DialogueStateTracker.from_events(
        "t", [ActionExecuted("action_listen"), ActionExecutionRejected("action_a")], domain.slots)
    assert not decisive([memo, rule], rejected, domain, 1)  # the rejected action's 1.0 becomes 0: TED may win
    # a happy-path loop prediction (no user input) overrules the others whatever their confidence
    loop = _prediction_of("RulePolicy", 6, a, 1.0, n, is_no_user_prediction=True)
    assert decisive([_prediction_of("MemoizationPolicy", 3, a, 0.2, n), loop], tracker, domain, 1)

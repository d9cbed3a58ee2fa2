"""TED runs only when its prediction can change the outcome (installed by `orderdesk.servers.rasa`).

Rasa 3.6 runs every policy for every action it predicts and then picks the prediction with the highest
confidence, the policy's priority breaking ties (`DefaultPolicyPredictionEnsemble`). A rule (RulePolicy,
priority 6) or a memorised story (MemoizationPolicy, priority 3) predicts with confidence 1.0; TED (priority 1)
gives a softmax, at most 1.0: when one of them predicted with 1.0, TED cannot win, and its prediction adds no
event (TED's events are optional ones, kept only when it wins). Yet TED was the largest cost of a message
(a quarter of the Rasa server's busy time in a profile: featurizing, then a TensorFlow call).

So the rule and memoization policies run first; when one of them decides with confidence 1.0 (after Rasa's
rejected-action check), the ensemble combines their predictions with an empty one in TED's place, which gives
the same winner, probabilities and events; otherwise the whole graph runs as Rasa runs it. Not used when TED
predicts from the message's text (end-to-end stories): such a prediction overrules the others.

tests/scale/test_state_window.py compares the predictions with Rasa's on long conversations made of the test
stories. `ORDERDESK_TED_SHORTCUT=0` switches it off (to measure the difference).
"""
from __future__ import annotations

import os
from typing import Any, Optional

ENV = "ORDERDESK_TED_SHORTCUT"
_original: list[Any] = []
stats = {"shortcut": 0, "full": 0}


class _Plan:
    """What the shortcut needs from the loaded model's graph; None when the graph is not the expected one."""

    def __init__(self, runner: Any, target: str) -> None:
        schema = runner._graph_schema
        node = schema.nodes[target]
        self.target = target
        self.ensemble = runner._instantiated_nodes[target]
        self.needs = dict(node.needs)
        self.ted = [p for p, n in self.needs.items()
                    if n in schema.nodes and schema.nodes[n].uses.__name__ == "TEDPolicy"]  # not the placeholders
        self.others = [n for p, n in self.needs.items()
                       if p.startswith("policy") and p not in self.ted]
        self.ok = (node.uses.__name__ == "DefaultPolicyPredictionEnsemble" and len(self.ted) == 1
                   and bool(self.others) and "domain" in self.needs and "tracker" in self.needs
                   and "precomputations" not in schema.nodes[self.needs[self.ted[0]]].needs)
        self.ted_component = runner._instantiated_nodes[self.needs[self.ted[0]]]._component if self.ok else None


def _plan(processor: Any) -> Optional[_Plan]:
    plan = getattr(processor, "_orderdesk_plan", False)
    if plan is False:
        plan = None
        try:
            candidate = _Plan(processor.graph_runner, processor.model_metadata.core_target)
            plan = candidate if candidate.ok else None
        except (AttributeError, KeyError):
            plan = None
        processor._orderdesk_plan = plan
    return plan


def decisive(predictions: list[Any], tracker: Any, domain: Any, ted_priority: int) -> bool:
    """Whether the winner among `predictions` (TED's left out) wins whatever TED predicts: confidence 1.0 after
    Rasa's rejected-action check and a priority above TED's."""
    from rasa.shared.core.events import ActionExecuted, ActionExecutionRejected

    last = next((e for e in reversed(tracker.events) if isinstance(e, (ActionExecutionRejected, ActionExecuted))),
                None)
    rejected = domain.index_for_action(last.action_name) if isinstance(last, ActionExecutionRejected) else None
    no_user = any(p.is_no_user_prediction for p in predictions)
    e2e = any(p.is_end_to_end_prediction for p in predictions)
    best = None
    for p in predictions:
        if p.is_no_user_prediction != no_user or (not no_user and p.is_end_to_end_prediction != e2e):
            continue
        probabilities = list(p.probabilities)
        if rejected is not None:
            probabilities[rejected] = 0.0
        key = (max(probabilities, default=0.0), p.policy_priority)
        best = key if best is None or key > best else best
    return best is not None and best[0] >= 1.0 and best[1] > ted_priority


def predict(processor: Any, tracker: Any) -> Any:
    """`MessageProcessor._predict_next_with_tracker`'s graph run, with TED only when it can matter."""
    from rasa.core.policies.policy import PolicyPrediction
    from rasa.engine.constants import PLACEHOLDER_TRACKER

    plan = _plan(processor)
    if plan is None:
        return None
    runner = processor.graph_runner
    domain_node = plan.needs["domain"]
    results = runner.run(inputs={PLACEHOLDER_TRACKER: tracker}, targets=[*plan.others, domain_node])
    domain = results[domain_node]
    ted = plan.ted_component
    ted_priority = ted.priority if hasattr(ted, "priority") else ted.config.get("priority", 1)
    if not decisive([results[n] for n in plan.others], tracker, domain, ted_priority):
        stats["full"] += 1
        return None
    stats["shortcut"] += 1
    kwargs = {}
    for param, name in plan.needs.items():
        if param == "tracker":
            kwargs[param] = tracker
        elif param == "domain":
            kwargs[param] = domain
        elif param in plan.ted:
            kwargs[param] = PolicyPrediction([0.0] * domain.num_actions, type(ted).__name__, ted_priority)
        else:
            kwargs[param] = results[name]
    return plan.ensemble._component.combine_predictions_from_kwargs(**kwargs)


def install() -> bool:
    """Patch Rasa's processor (idempotent). False when switched off (ORDERDESK_TED_SHORTCUT=0)."""
    if os.environ.get(ENV) == "0":
        return False
    if _original:
        return True
    from rasa.core.processor import MessageProcessor

    original = MessageProcessor._predict_next_with_tracker
    _original.append(original)

    def _predict_next_with_tracker(self: Any, tracker: Any) -> Any:
        if not tracker.followup_action:  # a follow-up action is taken as it is, no policy runs
            prediction = predict(self, tracker)
            if prediction is not None:
                return prediction
        return original(self, tracker)

    MessageProcessor._predict_next_with_tracker = _predict_next_with_tracker
    return True


def uninstall() -> None:
    if not _original:
        return
    from rasa.core.processor import MessageProcessor

    MessageProcessor._predict_next_with_tracker = _original.pop()

"""The policies' dialogue states from the end of the conversation only (installed by `orderdesk.servers.rasa`).

Rasa 3.6 turns the whole conversation session into dialogue states for every policy on every prediction
(`Domain.states_for_tracker_history`): TED then keeps the last `max_history` states (5), the rule policy
compares only the last states of its longest rule (the memoization policy, with no `max_history` in
config.yml, keys on the whole session and keeps Rasa's computation). With three policies, one to two state
computations each, and two or three predictions per message, a conversation of 200 turns costs several times
one of 20 (measured: p50 41 ms over the first 20 turns, 154 ms over the last 20).

Here the states are computed for the end of the conversation only, with the same result as Rasa's:

* the conversation is still replayed from its start (slots, active loop, hidden rule turns: all exact), only the
  states (`Domain.get_active_state`) before the window are not built;
* the window is the policy's `max_history` (TED; any policy that has one), and the longest rule plus one
  state for the rule policy (a rule never looks further back; with one state more than the longest rule, a
  conversation-start rule sees a conversation that does not start there, as it would with every state);
* for the ML policies, turns that only rules predicted are left out and the user input of a non-listen state is
  copied from the previous state: a state depends on the states before it back to the last one after
  `action_listen`. The window starts there (`SPAN` times `max_history` prior turns are built, states before
  the first listen state dropped); when fewer than `max_history` states are left, or the conversation has an
  `action_unlikely_intent`, Rasa's own computation runs.

Same states, same predictions: tests/policy/test_state_window.py compares both on long conversations made of
the test stories. `ORDERDESK_STATE_WINDOW=0` switches it off (to measure the difference).
"""
from __future__ import annotations

import contextvars
import json
import os
from typing import Any, Iterator, Optional

ENV = "ORDERDESK_STATE_WINDOW"
SPAN = 4  # prior turns built for the ML policies: SPAN x max_history (hidden rule turns and the chain start)

_window: contextvars.ContextVar[Optional[int]] = contextvars.ContextVar("orderdesk_state_window", default=None)
_originals: dict[str, Any] = {}


def _prior_trackers(tracker: Any, applied: list) -> Iterator[tuple[Any, bool]]:
    """`DialogueStateTracker.generate_all_prior_trackers`, on the applied events given."""
    from rasa.shared.core.events import ActionExecuted

    replay = tracker.init_copy()
    for event in applied:
        if isinstance(event, ActionExecuted):
            yield replay, event.hide_rule_turn
        replay.update(event)
    yield replay, False


def windowed_states(domain: Any, tracker: Any, window: int, omit_unset_slots: bool = False,
                    ignore_rule_only_turns: bool = False, rule_only_data: Optional[dict] = None) -> Optional[list]:
    """The states of the conversation's end as `Domain.states_for_tracker_history` computes them: its last
    `window` states at least (more may come, never fewer). None when this cannot be told without every state
    (the caller then computes them all)."""
    from rasa.shared.core import constants
    from rasa.shared.core.events import ActionExecuted
    from rasa.shared.core.trackers import is_prev_action_listen_in_state

    applied = tracker.applied_events()
    turns = 1 + sum(1 for e in applied if isinstance(e, ActionExecuted))
    if ignore_rule_only_turns:
        if any(isinstance(e, ActionExecuted) and e.action_name == constants.ACTION_UNLIKELY_INTENT_NAME
               for e in applied):
            return None
        span = SPAN * window
    else:
        span = window
    if turns <= span:
        return None
    first = turns - span

    states: list = []
    last_ml_action_sub_state = None
    turn_was_hidden = False
    started = not ignore_rule_only_turns  # the ML policies' states start at a listen state
    for index, (tr, hide_rule_turn) in enumerate(_prior_trackers(tracker, applied)):
        if ignore_rule_only_turns:
            if not turn_was_hidden:
                last_ml_action_sub_state = domain._get_prev_action_sub_state(tr)
            if not tr.followup_action and not tr.latest_action_name == tr.active_loop_name:
                turn_was_hidden = hide_rule_turn
            if turn_was_hidden:
                continue
        if index < first:
            continue
        state = domain.get_active_state(tr, omit_unset_slots=omit_unset_slots)
        if ignore_rule_only_turns:
            if not started:
                if not is_prev_action_listen_in_state(state):
                    continue  # its user input comes from a state before the window
                started = True
            domain._remove_rule_only_features(state, rule_only_data)
            if states:
                domain._substitute_rule_only_user_input(state, states[-1])
            if last_ml_action_sub_state:
                state[constants.PREVIOUS_ACTION] = last_ml_action_sub_state
        states.append(domain._clean_state(state))
    return states if len(states) >= window else None


def rule_window(policy: Any) -> Optional[int]:
    """The longest rule of a rule policy, in states, plus one (cached on the policy)."""
    from rasa.core.policies.rule_policy import RULES, RULES_FOR_LOOP_UNHAPPY_PATH

    cached = getattr(policy, "_orderdesk_window", False)
    if cached is not False:
        return cached
    keys = [*policy.lookup.get(RULES, {}), *policy.lookup.get(RULES_FOR_LOOP_UNHAPPY_PATH, {})]
    window = 1 + max((len(json.loads(k)) for k in keys), default=0) if keys else None
    policy._orderdesk_window = window
    return window


def install() -> bool:
    """Patch Rasa (idempotent). False when switched off (ORDERDESK_STATE_WINDOW=0)."""
    if os.environ.get(ENV) == "0":
        return False
    if _originals:
        return True
    from rasa.core.featurizers.tracker_featurizers import MaxHistoryTrackerFeaturizer
    from rasa.core.policies.rule_policy import RulePolicy
    from rasa.shared.core.domain import Domain

    _originals["states"] = original_states = Domain.states_for_tracker_history
    _originals["prediction_states"] = original_prediction = MaxHistoryTrackerFeaturizer.prediction_states
    _originals["rule_states"] = original_rule = RulePolicy._prediction_states

    def states_for_tracker_history(self: Any, tracker: Any, omit_unset_slots: bool = False,
                                   ignore_rule_only_turns: bool = False,
                                   rule_only_data: Optional[dict] = None) -> list:
        window = _window.get()
        if window:
            states = windowed_states(self, tracker, window, omit_unset_slots, ignore_rule_only_turns,
                                     rule_only_data)
            if states is not None:
                return states
        return original_states(self, tracker, omit_unset_slots=omit_unset_slots,
                               ignore_rule_only_turns=ignore_rule_only_turns, rule_only_data=rule_only_data)

    def prediction_states(self: Any, *args: Any, **kwargs: Any) -> Any:
        if not self.max_history or _window.get():
            return original_prediction(self, *args, **kwargs)
        token = _window.set(self.max_history)
        try:
            return original_prediction(self, *args, **kwargs)
        finally:
            _window.reset(token)

    def rule_prediction_states(self: Any, *args: Any, **kwargs: Any) -> Any:
        token = _window.set(rule_window(self))
        try:
            return original_rule(self, *args, **kwargs)
        finally:
            _window.reset(token)

    Domain.states_for_tracker_history = states_for_tracker_history
    MaxHistoryTrackerFeaturizer.prediction_states = prediction_states
    RulePolicy._prediction_states = rule_prediction_states
    return True


def uninstall() -> None:
    """Rasa's own computation again (tests compare both)."""
    if not _originals:
        return
    from rasa.core.featurizers.tracker_featurizers import MaxHistoryTrackerFeaturizer
    from rasa.core.policies.rule_policy import RulePolicy
    from rasa.shared.core.domain import Domain

    Domain.states_for_tracker_history = _originals.pop("states")
    MaxHistoryTrackerFeaturizer.prediction_states = _originals.pop("prediction_states")
    RulePolicy._prediction_states = _originals.pop("rule_states")

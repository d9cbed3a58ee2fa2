"""The rule policy's lookup narrowed by the last action first (installed by `orderdesk.servers.rasa`).

Rasa 3.6's `RulePolicy._get_possible_keys` checks every learned rule against the conversation's last state,
then the survivors against the state before, and so on: with our 285 rules (and 59 for forms' unhappy paths)
that is a few hundred Python-level comparisons per prediction, two or three predictions a message, about an
eighth of the Rasa server's time on a message (py-spy).

A rule whose last state names a previous action (`prev_action.action_name`) can only match a conversation
whose last state names the same one: `_does_rule_match_state` refuses a set value that differs, and a state
with no previous action (a conversation start) matches no rule that has one. So the rules are grouped once by
that name; a prediction checks, with Rasa's own `_is_rule_applicable` at every step, only the rules of the
conversation's last action and those whose last state names none. Same keys as Rasa's: tests/scale/
test_state_window.py compares both at every turn of the stories played as one conversation.
`ORDERDESK_RULE_INDEX=0` switches it off (to measure the difference).
"""
from __future__ import annotations

import json
import os
from typing import Any, Optional

ENV = "ORDERDESK_RULE_INDEX"

_originals: dict[str, Any] = {}


def _last_action_name(state: Optional[dict]) -> Optional[str]:
    from rasa.shared.core.constants import PREVIOUS_ACTION, SHOULD_NOT_BE_SET
    from rasa.shared.nlu.constants import ACTION_NAME

    name = ((state or {}).get(PREVIOUS_ACTION) or {}).get(ACTION_NAME)
    return name if isinstance(name, str) and name != SHOULD_NOT_BE_SET else None


def _index(policy: Any, lookup: dict[str, Any]) -> tuple[dict[str, list[str]], list[str]]:
    """Rules grouped by their last state's previous action; those with none (cached on the policy)."""
    cache = policy.__dict__.setdefault("_orderdesk_rule_index", {})
    found = cache.get(id(lookup))
    if found is not None and found[0] is lookup and found[1] == len(lookup):
        return found[2], found[3]
    by_action: dict[str, list[str]] = {}
    unnamed: list[str] = []
    for key in lookup:
        rule_states = json.loads(key)
        name = _last_action_name(rule_states[-1]) if rule_states else None
        if name:
            by_action.setdefault(name, []).append(key)
        else:
            unnamed.append(key)
    cache[id(lookup)] = (lookup, len(lookup), by_action, unnamed)
    return by_action, unnamed


def possible_keys(self: Any, lookup: dict[str, Any], states: list[dict]) -> set[str]:
    """`RulePolicy._get_possible_keys`, checking only the rules that can match the last state."""
    if not states:
        return set(lookup.keys())
    by_action, unnamed = _index(self, lookup)
    name = _last_action_name(states[-1])
    candidates = set(unnamed)
    if name:
        candidates.update(by_action.get(name, ()))
    applicable = self._is_rule_applicable
    for i, state in enumerate(reversed(states)):
        candidates = {key for key in candidates if applicable(key, i, state)}
    return candidates


def install() -> bool:
    """Patch Rasa (idempotent). False when switched off (ORDERDESK_RULE_INDEX=0)."""
    if os.environ.get(ENV) == "0":
        return False
    if _originals:
        return True
    from rasa.core.policies.rule_policy import RulePolicy

    _originals["possible_keys"] = RulePolicy._get_possible_keys
    RulePolicy._get_possible_keys = possible_keys
    return True


def uninstall() -> None:
    """Rasa's own lookup again (tests compare both)."""
    if not _originals:
        return
    from rasa.core.policies.rule_policy import RulePolicy

    RulePolicy._get_possible_keys = _originals.pop("possible_keys")

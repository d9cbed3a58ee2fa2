"""The development conversations (tests/dialogues/*.yml), played through the REST channel against
running servers; each must be fully right. Then: every policy rule is reached by some conversation.

The blind set (tests/dialogues/blind/) is not played here: it is a measurement (`make eval`).
Needs the trained model (`make test` trains it); without one these tests are skipped with that
reason, except in CI (CI=true), where a missing model fails the run.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import runner  # noqa: E402

CONVERSATIONS = runner.load([HERE])


@pytest.fixture(scope="module")
def results():
    model = runner.model_path()
    if model is None:
        why = "no trained model for the current data (run `make test`, which trains it)"
        if os.environ.get("CI") == "true":
            pytest.fail(why)
        pytest.skip(why)
    with runner.Servers(model) as servers:
        yield {r.conversation.name: r for r in runner.play_all(servers, CONVERSATIONS)}


def test_every_known_gap_names_a_conversation():
    assert set(KNOWN_GAPS) <= {c.name for c in CONVERSATIONS}


def test_the_development_set_is_big_enough_and_names_are_unique():
    names = [c.name for c in CONVERSATIONS]
    assert len(set(names)) == len(names), "two conversations share a name"
    assert len(CONVERSATIONS) >= 40


# Known gaps: conversations that do not pass yet, each with what goes wrong. Strict: once one passes, its
# entry must go (the run fails until it does). Listed in the README's known gaps; fixed by name, never loosened.
KNOWN_GAPS: dict[str, str] = {}


@pytest.mark.parametrize("name", [pytest.param(c.name, marks=pytest.mark.xfail(strict=True, reason=KNOWN_GAPS[c.name]))
                                  if c.name in KNOWN_GAPS else c.name for c in CONVERSATIONS])
def test_conversation_is_fully_right(results, name):
    result = results[name]
    assert result.right, runner.report(result)


def test_every_policy_rule_is_reached_by_a_conversation(results):
    from orderdesk.policy import RULES

    every = {r for rules in RULES.values() for r in rules}
    missing = sorted(every - runner.rules_reached(list(results.values())) - ONLY_BY_CONFIGURATION - NOT_IN_DEMO_DATA)
    assert not missing, "no conversation reaches these policy rules: " + ", ".join(missing)


# Reached only with `mistaken_confirmation="no_refund"` (the demo runs the default policy); the
# policy's unit tests cover them (tests/policy).
ONLY_BY_CONFIGURATION = {"dispute.confirmed_no_refund", "return.confirmed_no_refund", "refund.confirmed_no_refund"}
# No demo order is in these situations (a cancellation rejected before shipping; a parcel that never
# came, with buyer protection over), so no conversation can reach them; the policy's unit tests
# cover them. The test below fails once the demo data has such an order.
NOT_IN_DEMO_DATA = {"refund.after_rejection", "return.protection_ended"}


def test_the_rules_left_out_are_really_out_of_reach_of_the_demo_data():
    from datetime import datetime, timezone

    from orderdesk.demo import demo_payload
    from orderdesk.importer import import_payload
    from orderdesk.runtime import services
    from orderdesk.services import OPERATOR

    import tempfile

    now = datetime(2026, 11, 22, 12, tzinfo=timezone.utc)
    with tempfile.TemporaryDirectory() as tmp:
        svc = services(f"sqlite:///{tmp}/demo.db", clock=lambda: now)
        payload = demo_payload(now)
        with svc.uow() as uow:
            import_payload(payload, uow, now)
            uow.commit()
        reached = {a.rule for o in payload["orders"] for a in svc.explain(o["id"], customer_id=OPERATOR, record=False).answers().values()}
    assert not reached & (ONLY_BY_CONFIGURATION | NOT_IN_DEMO_DATA), "a conversation can reach these now: test them"


def test_the_checks_catch_what_they_should():
    replies = [{"text": "Order 81 is due Mon 23 Nov, 11:03 UTC", "buttons": [{"title": "Yes", "payload": "/affirm"}]}]
    assert runner.check_turn({"says": ["order 81"], "has_date": True, "buttons": ["affirm"]}, replies) == []
    assert runner.check_turn({"no_buttons": True}, replies) == ["no_buttons"]
    assert runner.check_turn({"not_says": ["due"]}, replies) == ["not_says 'due'"]
    assert runner.check_turn({"says_any": ["x", "y"]}, replies) == ["says_any ['x', 'y']"]
    assert runner.check_turn({"matches": r"\bdue\b"}, replies) == []
    assert runner.check_turn({"has_date": True}, [{"text": "by Monday"}]) == ["has_date"]
    assert runner.check_turn({}, []) == ["the bot said nothing"]
    # on every turn, whatever it expects: nothing left unfilled, no date that did not apply
    assert runner.check_turn({}, [{"text": "The seller has {seller_hours} hours."}]) == [
        "shows the placeholder '{seller_hours}'"]
    assert runner.check_turn({}, [{"text": "x", "buttons": [{"title": "Cancel the {item}"}]}]) == [
        "shows the placeholder '{item}'"]
    assert runner.check_turn({}, [{"text": "If nothing has arrived by -, open a dispute."}]) == [
        "shows a missing date 'by -'"]
    assert runner.check_turn({}, [{"text": "Order 81 - closed, from 3-20 days by Mon 23 Nov"}]) == []

"""Order builders, time helpers and the example/probe harness shared by the policy tests."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Callable, Optional

import pytest

from orderdesk.model import CompletedReason, Status
from orderdesk.policy import decide
from orderdesk.policy_config import DEFAULT, PolicyConfig

SECOND = timedelta(seconds=1)
NO_REFUND = replace(DEFAULT, mistaken_confirmation="no_refund")


def days(n: float) -> timedelta:
    return timedelta(days=n)


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


def paid(make, now, **kw):
    kw.setdefault("status", Status.AWAITING_SHIPMENT)
    kw.setdefault("placed_at", now - days(3))
    kw.setdefault("paid_at", now - days(3) + hours(1))
    return make(**kw)


def shipped(make, now, **kw):
    kw.setdefault("status", Status.AWAITING_DELIVERY)
    kw.setdefault("shipped_at", now - days(5))
    kw.setdefault("tracking_number", "LP00123456789CN")
    kw.setdefault("placed_at", now - days(9))
    kw.setdefault("paid_at", now - days(9) + hours(1))
    return make(**kw)


def confirmed(make, now, confirmed, **kw):
    return shipped(make, now, status=Status.COMPLETED, shipped_at=confirmed - days(10), delivered_at=confirmed,
                    confirmed_at=confirmed, completed_at=confirmed, completed_reason=CompletedReason.CONFIRMED, **kw)


# --------------------------------------------------------------------------- the harness every question's tests share

@dataclass(frozen=True)
class Example:
    """An order that reaches one rule: `build(make_order, now)`, decided at `now` under `cfg`."""
    build: Callable
    cfg: PolicyConfig = DEFAULT


@dataclass(frozen=True)
class Probe:
    """A deadline: `build(make_order, now)` -> (order, deadline); the rule just before it and from it on."""
    name: str
    build: Callable
    before: str
    after: str
    deadline_before: Optional[Callable] = None  # deadline -> the `deadline` the answer names just before it


THE_DEADLINE = lambda d: d  # noqa: E731 - the answer just before the deadline names the deadline itself

# Every probe is decided one second before its deadline, exactly at it, and one second after.
at_each_deadline = pytest.mark.parametrize("offset", [-SECOND, timedelta(0), SECOND],
                                           ids=["minus_1s", "exactly", "plus_1s"])


def probe_ids(probe: Probe) -> str:
    return probe.name.replace(" ", "_")


def answer(decision, question: str):
    return getattr(decision, "return_" if question == "return" else question)


def check_example(question: str, rule: str, example, make, now) -> None:
    ex = example if isinstance(example, Example) else Example(example)
    a = answer(decide(ex.build(make, now), now, ex.cfg), question)
    assert a.question == question
    assert a.rule == rule


def check_probe(question: str, probe: Probe, offset: timedelta, make, now) -> None:
    order, deadline = probe.build(make, now)
    a = answer(decide(order, deadline + offset), question)
    if offset < timedelta(0):
        assert a.rule == probe.before
        if probe.deadline_before is not None:
            assert a.deadline == probe.deadline_before(deadline)
    else:
        assert a.rule == probe.after


def said(decision, question: str) -> str:
    """What the buyer is told for one of the decision's answers: the domain's responses, filled
    with the decision's dates and the policy numbers it was decided with (`orderdesk.wording`)."""
    from orderdesk.wording import answer_text

    return answer_text(decision, question)

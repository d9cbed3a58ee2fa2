"""Which of a buyer's orders a question is about.

Pure functions over `Order` snapshots and `now`, like `orderdesk.policy`: no database, no Rasa,
no clock. When a linked buyer asks a question without naming an order, the bot offers the orders
the question is about first, and for some questions goes straight to the only one.

Each question (a topic: `orderdesk.topics`) has tiers, best first: checks on the order as of
`now` (due transitions applied with `advance`). An order is relevant when one of its question's
tiers holds; the first that holds ranks it. A question with no tiers (a status question, "how do
I get a refund") finds every order relevant.

A *strong* question is one where the order's state is the evidence: "the seller rejected my
cancellation" is about the order whose cancellation was rejected. When exactly one order is
relevant to a strong question, the bot uses it without asking (the buyer sees which one and can
name another). For every other question the relevant orders only come first among the choices.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from datetime import datetime
from typing import Callable, Iterable, Optional, Protocol, Sequence

from .model import CancellationState, ClosedReason, CompletedReason, DisputeState, Order, Status
from .policy import advance, cancel_answer, dispute_until, received_at, return_until
from .policy_config import DEFAULT, PolicyConfig

Check = Callable[[Order, datetime, PolicyConfig], bool]

NOT_SHIPPED = (Status.AWAITING_PAYMENT, Status.PAYMENT_PROCESSING, Status.AWAITING_SHIPMENT)
SHIPPED = (Status.AWAITING_DELIVERY, Status.COMPLETED)


@dataclass(frozen=True)
class Candidate:
    order: Order  # as of `now` (due transitions applied, not saved)
    relevant: bool
    tier: Optional[int] = None  # how well it fits the question: 0 best; None when not relevant


# --------------------------------------------------------------------------- what an order's state says

def awaiting_payment(o: Order, now: datetime, cfg: PolicyConfig = DEFAULT) -> bool:
    return o.status is Status.AWAITING_PAYMENT


def closed_unpaid(o: Order, now: datetime, cfg: PolicyConfig = DEFAULT) -> bool:
    return o.status is Status.CLOSED and not o.was_paid


def payment_being_checked(o: Order, now: datetime, cfg: PolicyConfig = DEFAULT) -> bool:
    return o.status is Status.PAYMENT_PROCESSING


def cancellable_now(o: Order, now: datetime, cfg: PolicyConfig = DEFAULT) -> bool:
    """The buyer can cancel it or request cancellation right now (the policy's cancel answer)."""
    return cancel_answer(o, now, cfg).allowed


def not_shipped(o: Order, now: datetime, cfg: PolicyConfig = DEFAULT) -> bool:
    """Not shipped and not closed (a closed order's status is CLOSED)."""
    return o.status in NOT_SHIPPED


def cancellation_blocks_button(o: Order, now: datetime, cfg: PolicyConfig = DEFAULT) -> bool:
    """An open order whose Cancel button is gone because of a request: pending, or rejected."""
    c = o.cancellation
    return (o.status in (Status.AWAITING_SHIPMENT, Status.AWAITING_DELIVERY) and c is not None
            and c.state in (CancellationState.PENDING, CancellationState.REJECTED))


def cancellation_pending(o: Order, now: datetime, cfg: PolicyConfig = DEFAULT) -> bool:
    return o.cancellation is not None and o.cancellation.state is CancellationState.PENDING


def cancellation_requested(o: Order, now: datetime, cfg: PolicyConfig = DEFAULT) -> bool:
    return o.cancellation is not None


def cancellation_rejected(o: Order, now: datetime, cfg: PolicyConfig = DEFAULT) -> bool:
    return o.cancellation is not None and o.cancellation.state is CancellationState.REJECTED


def seller_cancelled(o: Order, now: datetime, cfg: PolicyConfig = DEFAULT) -> bool:
    return o.status is Status.CLOSED and o.closed_reason is ClosedReason.SELLER_CANCELLED


def refund_owed(o: Order, now: datetime, cfg: PolicyConfig = DEFAULT) -> bool:
    """Closed after payment: cancelled (by either side, or the seller's silence), not shipped in
    time, or refunded through a dispute. The policy's refund.in_progress / refund.overdue."""
    return (o.status is Status.CLOSED and o.was_paid
            and o.closed_reason not in (ClosedReason.BUYER_CANCELLED, ClosedReason.UNPAID_TIMEOUT))


def dispute_resolved(o: Order, now: datetime, cfg: PolicyConfig = DEFAULT) -> bool:
    return o.dispute is not None and o.dispute.state is DisputeState.RESOLVED


def dispute_open(o: Order, now: datetime, cfg: PolicyConfig = DEFAULT) -> bool:
    """Open with the seller: not yet escalated, resolved or withdrawn."""
    return o.dispute is not None and o.dispute.state is DisputeState.OPEN


def in_transit(o: Order, now: datetime, cfg: PolicyConfig = DEFAULT) -> bool:
    """Shipped and not completed."""
    return o.status is Status.AWAITING_DELIVERY


def nothing_arrived(o: Order, now: datetime, cfg: PolicyConfig = DEFAULT) -> bool:
    """Shipped and nothing delivered: in transit, or completed when the delivery window ended
    (inside buyer protection)."""
    if received_at(o) is not None:
        return False
    if o.status is Status.AWAITING_DELIVERY:
        return True
    return o.completed_reason is CompletedReason.DELIVERY_WINDOW_ENDED and _protected(o, now, cfg)


def received_in_protection(o: Order, now: datetime, cfg: PolicyConfig = DEFAULT) -> bool:
    """Delivered or completed with the item received, and buyer protection still running."""
    return o.status in SHIPPED and received_at(o) is not None and _protected(o, now, cfg)


def shipped_in_protection(o: Order, now: datetime, cfg: PolicyConfig = DEFAULT) -> bool:
    return o.status in SHIPPED and _protected(o, now, cfg)


def received_in_return_window(o: Order, now: datetime, cfg: PolicyConfig = DEFAULT) -> bool:
    until = return_until(o, cfg)
    return o.status in SHIPPED and until is not None and now < until


def confirmed_in_return_window(o: Order, now: datetime, cfg: PolicyConfig = DEFAULT) -> bool:
    """Receipt confirmed recently: the return window after receiving it has not ended."""
    return o.confirmed_at is not None and received_in_return_window(o, now, cfg)


def _protected(o: Order, now: datetime, cfg: PolicyConfig) -> bool:
    until = dispute_until(o, cfg)
    return until is not None and now < until


# --------------------------------------------------------------------------- ranking for a topic

class Question(Protocol):
    """What the ranking reads of a topic (`orderdesk.topics.Topic`)."""

    @property
    def tiers(self) -> tuple[Check, ...]: ...

    @property
    def strong(self) -> bool: ...


def tier(order: Order, question: Question, now: datetime, cfg: PolicyConfig = DEFAULT) -> Optional[int]:
    """How well `order` fits `question` as of `now`: 0 best, None when it is not about it.

    A question with no tiers finds every order relevant (tier 0).
    """
    return _tier(advance(order, now, cfg)[0], question, now, cfg)


def relevant(order: Order, question: Question, now: datetime, cfg: PolicyConfig = DEFAULT) -> bool:
    """Is `order` (as of `now`) one the buyer may mean when asking `question`?"""
    return tier(order, question, now, cfg) is not None


def rank(orders: Iterable[Order], question: Question, now: datetime,
         cfg: PolicyConfig = DEFAULT) -> list[Candidate]:
    """The orders as of `now`, relevant ones first (best tier first, then newest first), then the
    rest newest first. Newest: latest `placed_at`; equal times by order id."""
    settled = [advance(order, now, cfg)[0] for order in orders]
    scored = [(_tier(o, question, now, cfg), o) for o in settled]
    scored.sort(key=lambda s: (s[0] is None, s[0] or 0, -s[1].placed_at.timestamp(), s[1].id))
    return [Candidate(o, t is not None, t) for t, o in scored]


def _tier(o: Order, question: Question, now: datetime, cfg: PolicyConfig) -> Optional[int]:
    checks = question.tiers
    if not checks:
        return 0
    return next((i for i, check in enumerate(checks) if check(o, now, cfg)), None)


def the_one(question: Question, candidates: Sequence[Candidate]) -> Optional[Order]:
    """The order to answer about without asking: the buyer's only order, or the only order that
    fits a strong question best ("any news on my cancellation?" with one pending request and
    others answered long ago). None when the buyer should choose."""
    if len(candidates) == 1:
        return candidates[0].order
    if question.strong:
        relevant_tiers = [c.tier if c.tier is not None else 0 for c in candidates if c.relevant]
        if not relevant_tiers:
            return None
        best = min(relevant_tiers)
        hits = [c.order for c in candidates if c.relevant and (c.tier if c.tier is not None else 0) == best]
        if len(hits) == 1:
            return hits[0]
    return None


# --------------------------------------------------------------------------- orders named by their item

# Item words too common in other senses to name an order on their own ("I'm running out of time").
_WEAK_WORDS = frozenset({"running", "smart", "winter", "wireless", "mechanical", "camping", "kitchen", "order",
                         "item", "thing", "stuff", "case", "light", "phone", "set", "pack", "new", "the"})
_WORD = re.compile(r"[^\W\d_]+")


def _stem(word: str) -> str:
    w = word.lower()
    if len(w) > 4 and w.endswith("ies"):
        return w[:-3] + "y"
    if len(w) > 4 and w.endswith(("sses", "xes", "zes", "ches", "shes")):
        return w[:-2]
    if len(w) > 3 and w.endswith("s") and not w.endswith("ss"):
        return w[:-1]
    return w


def _same(a: str, b: str) -> bool:
    """Same word, allowing plurals and, in longer words, one or two typos."""
    a, b = _stem(a), _stem(b)
    if a == b:
        return True
    if min(len(a), len(b)) < 5:
        return False
    return SequenceMatcher(None, a, b).ratio() >= 0.8


def items_named(text: str, orders: Sequence[Order]) -> list[Order]:
    """The orders whose item the text names: the best-matching ones (ties all returned).

    An order is named when the text has its item's last word ("lamp" for "LED desk lamp"), two
    of its words, or one of its words that is not a common word in other senses. Plurals and
    small typos count ("headphnes", "organizer")."""
    said = [w for w in _WORD.findall(text.lower()) if len(w) >= 3]
    if not said:
        return []
    scored: list[tuple[int, Order]] = []
    for o in orders:
        words = [w for w in _WORD.findall(o.item.lower()) if len(w) >= 3]
        if not words:
            continue
        hits = [w for w in words if any(_same(w, s) for s in said)]
        head = words[-1] in hits
        strong = [w for w in hits if w not in _WEAK_WORDS]
        if head or len(hits) >= 2 or strong:
            scored.append((len(hits) + (1 if head else 0), o))
    if not scored:
        return []
    best = max(score for score, _ in scored)
    return [o for score, o in scored if score == best]


# --------------------------------------------------------------------------- orders named by what happened to them

# "the seller approved my cancellation (a month ago) and still no refund": the order whose cancellation was
# approved (or went through when the seller didn't answer), as an item name would name it.
_CANCELLATION_APPROVED = re.compile(r"\b(approv\w*|accept\w*|agreed to)\b.{0,40}\bcancel\w*|"
                                    r"\bcancel\w*\b.{0,40}\b(was|got|been|is) (approv\w*|accept\w*)", re.IGNORECASE)


def named_by_state(text: str, orders: Sequence[Order]) -> list[Order]:
    """The orders the text names by their state ("the seller approved my cancellation"); [] when it names none."""
    if _CANCELLATION_APPROVED.search(text or ""):
        return [o for o in orders
                if o.closed_reason in (ClosedReason.CANCELLATION_APPROVED, ClosedReason.SELLER_NO_RESPONSE)]
    return []

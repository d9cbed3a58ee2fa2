"""Services: each is one transaction over the store, with the policy deciding.

A refused request returns the policy's decision (`Outcome.filed is False`),
never a stack trace. Filing is idempotent: the same request twice returns the
request already filed (`Outcome.created is False`).
"""
from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any, Callable, Optional, Union

from .candidates import Candidate, rank
from .clock import Clock, utcnow
from .errors import STORE_LOST, InvalidInput, NotYourOrder, OrderNotFound, ServiceError, StoreUnavailable
from .model import (
    CANCELLATION_REASONS,
    DISPUTE_REASONS,
    MAX_DESCRIPTION,
    Cancellation,
    CancellationState,
    ClosedReason,
    CompletedReason,
    Dispute,
    DisputeState,
    Order,
    RefundKind,
    Status,
    cancellation_reference,
    dispute_reference,
    refund_reference,
)
from .policy import Decision, Transition, decide, refund_days, refund_destination
from .policy_config import DEFAULT, PolicyConfig
from .repository import STORE_ERRORS, UnitOfWork
from .topics import topic

ORDER_ID_RE = re.compile(r"^[0-9]{6,19}$")  # ASCII digits only (\d would also take other scripts' digits)


__all__ = ["Clock", "InvalidInput", "NotYourOrder", "OrderNotFound", "Outcome", "ServiceError", "Services",
           "StoreUnavailable", "normalize_order_id", "parse_amount", "utcnow"]


@dataclass(frozen=True)
class Outcome:
    filed: bool  # the request exists now (just filed or filed earlier)
    created: bool  # this call filed it
    reference: Optional[str]
    decision: Decision
    rule: str  # the rule that allowed or refused it
    state: Optional[str] = None

    @property
    def refused(self) -> bool:
        return not self.filed


def normalize_order_id(raw: Any) -> str:
    # NFKC turns full-width digits (typed on CJK keyboards) into ASCII ones.
    s = re.sub(r"[\s#-]", "", unicodedata.normalize("NFKC", str(raw or "")))
    if not ORDER_ID_RE.match(s):
        raise InvalidInput(f"'{str(raw)[:40]}' is not an order number: order numbers are 6 to 19 digits.")
    return s


@dataclass(frozen=True)
class Operator:
    """Someone acting for the marketplace (the CLI's operator commands), not for a buyer: may read and
    change any order, and is named as such; "no customer" is not a way in."""

    name: str = "operator"


OPERATOR = Operator()
# Who acts on an order: a customer id (the order must be theirs) or an operator. Every service that reads or
# changes an order requires one.
Acting = Union[str, Operator]


def _check_acting(acting: Any) -> None:
    if isinstance(acting, Operator) or (isinstance(acting, str) and acting):
        return
    raise NotYourOrder("Nobody is acting on this order: name the customer or the operator.")


class Services:
    """The store's operations. `uow` builds a unit of work; `clock` gives now (UTC)."""

    def __init__(self, uow: Callable[[], UnitOfWork] = UnitOfWork, clock: Clock = utcnow,
                 config: PolicyConfig = DEFAULT):
        self.uow = uow
        self.clock = clock
        self.config = config

    # -- helpers --------------------------------------------------------------
    def _now(self, at: Optional[datetime]) -> datetime:
        now = at or self.clock()
        if now.tzinfo is None:
            raise InvalidInput("times must carry a timezone")
        return now

    def _load(self, uow: UnitOfWork, order_id: str, acting: Acting, for_update: bool) -> Order:
        """The order, when `acting` may see it. A customer gets `NotYourOrder`, with the same words, for an
        order that is someone else's and for one that does not exist; an operator gets `OrderNotFound`."""
        _check_acting(acting)
        oid = normalize_order_id(order_id)
        o = uow.orders.get(oid, for_update=for_update)
        if isinstance(acting, Operator):
            if o is None:
                raise OrderNotFound(f"There is no order {oid}.")
            return o
        if o is None or o.customer != acting:
            raise NotYourOrder(f"There is no order {oid} on this account.")
        return o

    def _settle(self, uow: UnitOfWork, order: Order, now: datetime, actor: str) -> Decision:
        """Decide at `now` and persist the time-driven transitions that were due."""
        decision = decide(order, now, self.config)
        if decision.transitions:
            uow.orders.save_order(decision.order, now)
            for t in decision.transitions:
                self._record_transition(uow, decision.order, t, now, actor)
        return decision

    def _record_transition(self, uow: UnitOfWork, o: Order, t: Transition, now: datetime, actor: str) -> None:
        uow.audit.record(at=now, effective_at=t.at, kind="transition", actor=actor, order_id=o.id, rule=t.kind,
                         from_status=t.from_status.value, to_status=t.to_status.value)
        if t.refund_due:
            self._create_refund(uow, o, t.kind, t.at)

    def _create_refund(self, uow: UnitOfWork, o: Order, reason: str, at: datetime,
                       amount: Optional[Decimal] = None) -> None:
        if not o.was_paid or uow.refunds.exists(o.id):
            return
        _, hi = refund_days(o, self.config)
        uow.refunds.add(
            reference=refund_reference(o.id), order_id=o.id, amount=amount if amount is not None else o.amount,
            currency=o.currency, destination=refund_destination(o.payment_method), reason=reason,
            state="pending", created_at=at, expected_by=at + timedelta(days=hi))

    def _run(self, fn: Callable[[UnitOfWork], Any]) -> Any:
        """`fn` in a unit of work of its own. The unit of work turns a database lost inside it into
        `StoreUnavailable`; so does this when the unit of work cannot even be opened."""
        try:
            with self.uow() as uow:
                return fn(uow)
        except STORE_ERRORS as e:
            raise StoreUnavailable(STORE_LOST) from e

    # -- reads --------------------------------------------------------------
    def explain(self, order_id: str, *, customer_id: Acting, at: Optional[datetime] = None,
                actor: str = "cli", record: bool = True) -> Decision:
        """The four answers for an order as of `at` (as if swept then). Records the decision."""
        now = self._now(at)

        def work(uow: UnitOfWork) -> Decision:
            d = decide(self._load(uow, order_id, customer_id, False), now, self.config)
            if record:
                # The four rules go in the detail: joined they overflow the 64-character rule column.
                # `at` is when it was asked, `effective_at` the time it was asked about.
                uow.audit.record(at=self.clock(), effective_at=now, kind="decision", actor=actor,
                                 order_id=d.order.id, rule=None, status=d.status.value,
                                 rules={q: a.rule for q, a in d.answers().items()})
                uow.commit()
            return d

        return self._run(work)

    def customer_for_chat(self, channel: str, chat_id: str) -> Optional[str]:
        """The customer this chat is linked to (a customer's chat_ids), or None for a stranger."""
        return self._run(lambda uow: uow.customers.for_chat(channel, chat_id))

    def orders_for_question(self, customer_id: str, question: str, *, at: Optional[datetime] = None,
                            limit: int = 50) -> list[Candidate]:
        """The customer's `limit` most recent orders as of `at`, ranked for `question` (a topic's key,
        `orderdesk.topics`): the orders it is about first (`Candidate.relevant`), then the rest. Reads
        only: transitions that are due are applied to the snapshots, not saved."""
        if not (isinstance(customer_id, str) and customer_id):
            raise NotYourOrder("Nobody is acting: only a customer's own orders are listed.")
        now = self._now(at)
        about = topic(question)
        return self._run(lambda uow: rank(uow.orders.recent_orders(customer_id, limit), about, now, self.config))

    def requests(self) -> list[dict[str, Any]]:
        """Every filed request (cancellations, disputes, handoffs), newest first."""
        return self._run(lambda uow: uow.requests.all())

    # -- filing ---------------------------------------------------------------
    def request_cancellation(self, order_id: str, reason: str, *, customer_id: Acting,
                             channel: str = "cli", at: Optional[datetime] = None) -> Outcome:
        if reason not in CANCELLATION_REASONS:
            raise InvalidInput(f"Unknown cancellation reason '{str(reason)[:40]}'. "
                               f"Choose one of: {', '.join(CANCELLATION_REASONS)}.")
        now = self._now(at)

        def work(uow: UnitOfWork) -> Outcome:
            o = self._load(uow, order_id, customer_id, True)
            decision = self._settle(uow, o, now, f"bot:{channel}")
            o = decision.order
            if o.cancellation is not None:  # filed before: idempotent answer
                uow.commit()
                return self._existing_cancellation(uow, o, decision)
            ans = decision.cancel
            if not ans.allowed:
                uow.audit.record(at=now, kind="request", actor=f"bot:{channel}", order_id=o.id, rule=ans.rule,
                                 request="cancellation", result="refused")
                uow.commit()
                return Outcome(False, False, None, decision, ans.rule)
            instant = o.status is Status.AWAITING_PAYMENT
            state = CancellationState.APPROVED if instant else CancellationState.PENDING
            ref = cancellation_reference(o.id)
            responded = now if instant else None
            if not uow.cancellations.add(reference=ref, order_id=o.id, reason=reason, state=state.value,
                                         requested_at=now, responded_at=responded, channel=channel):
                # Someone filed it between our read and our insert (a double click on another replica).
                uow.rollback()
                return self._existing_after_race(order_id, customer_id, now)
            o = replace(o, cancellation=Cancellation(requested_at=_utc(now), state=state, reason=reason,
                                                     responded_at=_utc(responded)))
            if instant:
                o = replace(o, status=Status.CLOSED, closed_at=_utc(now), closed_reason=ClosedReason.BUYER_CANCELLED)
                uow.orders.save_order(o, now)
            uow.audit.record(at=now, kind="request", actor=f"bot:{channel}", order_id=o.id, rule=ans.rule,
                             request="cancellation", result="filed", reference=ref, reason=reason)
            uow.commit()
            return Outcome(True, True, ref, decide(o, now, self.config), ans.rule, state.value)

        return self._run(work)

    def _existing_cancellation(self, uow: UnitOfWork, o: Order, decision: Decision) -> Outcome:
        ref = uow.cancellations.reference(o.id)
        return Outcome(True, False, ref, decision, decision.cancel.rule, o.cancellation.state.value)

    def _existing_after_race(self, order_id: str, customer_id: Acting, now: datetime) -> Outcome:
        with self.uow() as uow2:
            o = self._load(uow2, order_id, customer_id, False)
            return self._existing_cancellation(uow2, o, decide(o, now, self.config))

    def seller_respond(self, order_id: str, *, operator: Operator, approve: bool,
                       tracking_number: Optional[str] = None, at: Optional[datetime] = None) -> Outcome:
        """The seller's answer to a cancellation request, entered by an operator (never by a buyer)."""
        if not isinstance(operator, Operator):
            raise NotYourOrder("Only an operator can enter a seller's answer.")
        now = self._now(at)
        tracking = (tracking_number or "").strip()
        if not approve and not tracking:
            raise InvalidInput("A seller who rejects a cancellation must give the parcel's tracking number.")
        if tracking and not re.fullmatch(r"[A-Za-z0-9-]{6,40}", tracking):
            raise InvalidInput(f"'{tracking[:40]}' is not a tracking number.")

        def work(uow: UnitOfWork) -> Outcome:
            o = self._load(uow, order_id, operator, True)
            decision = self._settle(uow, o, now, "seller")
            o = decision.order
            c = o.cancellation
            if c is None or c.state is not CancellationState.PENDING:
                uow.commit()
                state = c.state.value if c else None
                why = "no_request" if c is None else f"already_{c.state.value}"
                return Outcome(False, False, None, decision, f"seller.{why}", state)
            if approve:
                c = replace(c, state=CancellationState.APPROVED, responded_at=now)
                o = replace(o, status=Status.CLOSED, closed_at=now, closed_reason=ClosedReason.CANCELLATION_APPROVED,
                            cancellation=c)
            else:
                c = replace(c, state=CancellationState.REJECTED, responded_at=now, tracking_number=tracking)
                o = replace(o, status=Status.AWAITING_DELIVERY, shipped_at=o.shipped_at or now,
                            tracking_number=tracking, cancellation=c)
            uow.orders.save_order(o, now)
            if approve:
                self._create_refund(uow, o, "cancellation_approved", now)
            uow.audit.record(at=now, kind="request", actor="seller", order_id=o.id,
                             rule="seller.approved" if approve else "seller.rejected", tracking_number=tracking or None)
            ref = uow.cancellations.reference(o.id)
            uow.commit()
            return Outcome(True, True, ref, decide(o, now, self.config), "seller." + c.state.value, c.state.value)

        return self._run(work)

    def open_dispute(self, order_id: str, *, reason: str, description: str = "", refund: str = "full",
                     amount: Any = None, customer_id: Acting, channel: str = "cli",
                     at: Optional[datetime] = None) -> Outcome:
        if reason not in DISPUTE_REASONS:
            raise InvalidInput(f"Unknown dispute reason '{str(reason)[:40]}'. Choose one of: "
                               f"{', '.join(DISPUTE_REASONS)}.")
        try:
            kind = RefundKind(refund)
        except ValueError:
            raise InvalidInput("The refund must be 'full' or 'partial'.") from None
        description = _text(description).strip()
        if len(description) > MAX_DESCRIPTION:
            raise InvalidInput(f"The description is {len(description):,} characters; at most {MAX_DESCRIPTION:,} "
                               "are kept. Shorten it; details and photos go on the dispute page.")
        now = self._now(at)

        def work(uow: UnitOfWork) -> Outcome:
            o = self._load(uow, order_id, customer_id, True)
            decision = self._settle(uow, o, now, f"bot:{channel}")
            o = decision.order
            if o.dispute is not None:
                uow.commit()
                return self._existing_dispute(uow, o, decision)
            ans = decision.dispute
            if not ans.allowed:
                uow.audit.record(at=now, kind="request", actor=f"bot:{channel}", order_id=o.id, rule=ans.rule,
                                 request="dispute", result="refused")
                uow.commit()
                return Outcome(False, False, None, decision, ans.rule)
            value = o.amount if kind is RefundKind.FULL else parse_amount(amount, o.amount, o.currency)
            ref = dispute_reference(o.id)
            if not uow.disputes.add(reference=ref, order_id=o.id, reason=reason, description=description,
                                    refund=kind.value, amount=value, state=DisputeState.OPEN.value, opened_at=now,
                                    channel=channel):
                uow.rollback()
                with self.uow() as uow2:
                    o2 = self._load(uow2, order_id, customer_id, False)
                    return self._existing_dispute(uow2, o2, decide(o2, now, self.config))
            uow.audit.record(at=now, kind="request", actor=f"bot:{channel}", order_id=o.id, rule=ans.rule,
                             request="dispute", result="filed", reference=ref, reason=reason, refund=kind.value,
                             amount=str(value))
            uow.commit()
            o = replace(o, dispute=Dispute(opened_at=now, state=DisputeState.OPEN, reason=reason, refund=kind,
                                           amount=value, description=description))
            return Outcome(True, True, ref, decide(o, now, self.config), ans.rule, DisputeState.OPEN.value)

        return self._run(work)

    def _existing_dispute(self, uow: UnitOfWork, o: Order, decision: Decision) -> Outcome:
        ref = uow.disputes.reference(o.id)
        return Outcome(True, False, ref, decision, decision.dispute.rule, o.dispute.state.value)

    def escalate_dispute(self, order_id: str, *, customer_id: Acting, channel: str = "cli",
                         at: Optional[datetime] = None) -> Outcome:
        now = self._now(at)

        def work(uow: UnitOfWork) -> Outcome:
            o = self._load(uow, order_id, customer_id, True)
            decision = self._settle(uow, o, now, f"bot:{channel}")
            o = decision.order
            d = o.dispute
            if d is None or d.state not in (DisputeState.OPEN, DisputeState.ESCALATED):
                uow.commit()
                return Outcome(False, False, None, decision, decision.dispute.rule, d.state.value if d else None)
            ref = uow.disputes.reference(o.id)
            if d.state is DisputeState.ESCALATED:
                uow.commit()
                return Outcome(True, False, ref, decision, "dispute.escalated", d.state.value)
            o = replace(o, dispute=replace(d, state=DisputeState.ESCALATED, escalated_at=now))
            uow.orders.save_order(o, now)
            uow.disputes.escalated_by(o.id, "buyer")
            uow.audit.record(at=now, kind="request", actor=f"bot:{channel}", order_id=o.id, rule="dispute.open",
                             request="escalation", result="filed", reference=ref)
            uow.commit()
            return Outcome(True, True, ref, decide(o, now, self.config), "dispute.escalated", "escalated")

        return self._run(work)

    def confirm_receipt(self, order_id: str, *, customer_id: Acting, channel: str = "cli",
                        at: Optional[datetime] = None) -> Outcome:
        now = self._now(at)

        def work(uow: UnitOfWork) -> Outcome:
            o = self._load(uow, order_id, customer_id, True)
            decision = self._settle(uow, o, now, f"bot:{channel}")
            o = decision.order
            if o.confirmed_at is not None:
                uow.commit()
                return Outcome(True, False, None, decision, "receipt.already_confirmed", o.status.value)
            if o.status is not Status.AWAITING_DELIVERY:
                uow.commit()
                return Outcome(False, False, None, decision, "receipt.not_in_transit", o.status.value)
            if o.dispute is not None and o.dispute.state in (DisputeState.OPEN, DisputeState.ESCALATED):
                # Confirming would release the payment while the dispute is deciding who gets it.
                uow.commit()
                return Outcome(False, False, None, decision, "receipt.dispute_open", o.status.value)
            o = replace(o, status=Status.COMPLETED, confirmed_at=now, delivered_at=o.delivered_at or now,
                        completed_at=now, completed_reason=CompletedReason.CONFIRMED)
            uow.orders.save_order(o, now)
            uow.audit.record(at=now, kind="request", actor=f"bot:{channel}", order_id=o.id,
                             rule="receipt.confirmed", request="confirm_receipt", result="filed")
            uow.commit()
            return Outcome(True, True, None, decide(o, now, self.config), "receipt.confirmed", o.status.value)

        return self._run(work)

    def record_handoff(self, *, channel: str, sender_id: str, transcript: str, customer_id: Optional[str] = None,
                       order_id: Optional[str] = None, at: Optional[datetime] = None) -> str:
        now = self._now(at)
        ref = f"HND-{now:%Y%m%d}-{secrets.token_hex(5).upper()}"
        sender_id, transcript = _text(sender_id), _text(transcript)

        def work(uow: UnitOfWork) -> str:
            oid = None
            if order_id and customer_id:
                # Only the customer's own order is attached: a handoff is no way to reach another's.
                oid = normalize_order_id(order_id)
                o = uow.orders.get(oid)
                if o is None or o.customer != customer_id:
                    oid = None
            uow.handoffs.add(
                reference=ref, channel=channel, sender_id=sender_id[:128], customer_id=customer_id, order_id=oid,
                transcript=transcript[:100_000], state="open", created_at=now)
            uow.audit.record(at=now, kind="handoff", actor=f"bot:{channel}", order_id=oid, rule="handoff",
                             reference=ref, sender_id=sender_id[:128])
            uow.commit()
            return ref

        return self._run(work)

    def add_to_handoff(self, reference: str, line: str, *, channel: str, sender_id: str) -> bool:
        """Append a line (what the buyer wrote while waiting for a person) to the open handoff `reference`
        of this conversation. False when the conversation has no such open handoff."""
        line, sender_id = _text(line), _text(sender_id)[:128]

        def work(uow: UnitOfWork) -> bool:
            if not uow.handoffs.append(reference, line, channel=channel, sender_id=sender_id, limit=100_000):
                return False
            uow.commit()
            return True

        return self._run(work)

    # -- time -----------------------------------------------------------------
    def sweep(self, *, at: Optional[datetime] = None) -> list[dict[str, Any]]:
        """Apply every due time-driven transition. Safe to run twice or on several replicas at once."""
        now = self._now(at)
        ids = self._run(lambda uow: uow.orders.ids_to_sweep())
        changes: list[dict[str, Any]] = []
        for oid in ids:
            def work(uow: UnitOfWork, oid=oid) -> list[dict[str, Any]]:
                o = uow.orders.get(oid, for_update=True)
                if o is None:  # deleted since it was listed (a demo reset)
                    return []
                d = self._settle(uow, o, now, "sweep")
                uow.commit()
                return [{"order_id": oid, "transition": t.kind, "at": t.at, "from": t.from_status.value,
                         "to": t.to_status.value} for t in d.transitions]

            changes.extend(self._run(work))
        return changes


def _utc(t: Optional[datetime]) -> Optional[datetime]:
    """A time as the store gives it back (UTC), for snapshots built without reading the store again."""
    return None if t is None else t.astimezone(timezone.utc)


def _text(raw: Any) -> str:
    """Free text as the store can keep it: PostgreSQL refuses NUL characters in strings."""
    return str(raw or "").replace("\x00", "")


def parse_amount(raw: Any, limit: Decimal, currency: str = "") -> Decimal:
    """A partial refund amount: positive, at most the order's amount, two decimals."""
    # Exactly one number, with an optional currency word or sign around it: "7,50", "$12", "15 euros".
    numbers = re.findall(r"\d+(?:[.,]\d+)?", str(raw or ""))
    letters = re.sub(r"(?i)\b(usd|eur|euros?|dollars?|rub|gbp|pounds?)\b|[$€£¥₽]", "", str(raw or ""))
    if len(numbers) != 1 or re.search(r"[A-Za-z]", letters):
        raise InvalidInput(f"'{str(raw)[:40]}' is not an amount.")
    try:
        value = Decimal(numbers[0].replace(",", ".")).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise InvalidInput(f"'{str(raw)[:40]}' is not an amount.") from None
    if value <= 0 or value > limit or "-" in str(raw):  # "-5" must not read as 5
        raise InvalidInput(f"A partial refund must be more than 0 and at most {limit} {currency}".strip() + ".")
    return value

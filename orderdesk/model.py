"""The order snapshot the policy reasons about.

Plain frozen dataclasses: no database, no Rasa. The store turns rows into these
and back; the policy only ever sees a snapshot and a `now`.
All datetimes are timezone-aware (UTC in the store).
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Optional


class Status(str, enum.Enum):
    AWAITING_PAYMENT = "awaiting_payment"
    PAYMENT_PROCESSING = "payment_processing"
    AWAITING_SHIPMENT = "awaiting_shipment"
    AWAITING_DELIVERY = "awaiting_delivery"
    COMPLETED = "completed"
    CLOSED = "closed"


class PaymentMethod(str, enum.Enum):
    CARD = "card"
    ALIPAY_CARD = "alipay_card"  # a bank card linked through Alipay
    PAYPAL = "paypal"
    WALLET = "wallet"  # an electronic wallet (e-payment system)


class ClosedReason(str, enum.Enum):
    UNPAID_TIMEOUT = "unpaid_timeout"
    BUYER_CANCELLED = "buyer_cancelled"  # unpaid order cancelled by the buyer
    CANCELLATION_APPROVED = "cancellation_approved"
    SELLER_NO_RESPONSE = "seller_no_response"
    NOT_SHIPPED_IN_TIME = "not_shipped_in_time"
    SELLER_CANCELLED = "seller_cancelled"
    DISPUTE_REFUNDED = "dispute_refunded"


class CompletedReason(str, enum.Enum):
    CONFIRMED = "confirmed"  # the buyer confirmed receipt
    DELIVERY_WINDOW_ENDED = "delivery_window_ended"


class CancellationState(str, enum.Enum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    AUTO_APPROVED = "auto_approved"  # the seller did not answer in time


class DisputeState(str, enum.Enum):
    OPEN = "open"
    ESCALATED = "escalated"
    RESOLVED = "resolved"
    WITHDRAWN = "withdrawn"


class RefundKind(str, enum.Enum):
    FULL = "full"
    PARTIAL = "partial"


# The cancellation dialog's fixed reasons (marketplace-facts.md). Codes are short
# because chat buttons carry them (Telegram caps callback data at 64 bytes). How each reads
# for the buyer is domain.yml's utter_text_cancel_reason_<code> (orderdesk.wording).
CANCELLATION_REASONS: tuple[str, ...] = (
    "wrong_product", "duplicate_order", "no_contact", "out_of_stock", "seller_refuses", "other",
)
# Reasons that are the buyer's own mistake: the seller is not penalised.
BUYER_FAULT_REASONS = frozenset({"wrong_product", "duplicate_order"})

# The longest dispute description the store keeps (characters). Longer text is refused with its
# length, never cut: the buyer is asked for a summary and adds the rest on the dispute page.
MAX_DESCRIPTION = 2000


# The references a buyer is told, one per order for each kind of request (the store keeps them unique).
def cancellation_reference(order_id: str) -> str:
    return f"CXL-{order_id}"


def dispute_reference(order_id: str) -> str:
    return f"DSP-{order_id}"


def refund_reference(order_id: str) -> str:
    return f"RFD-{order_id}"


# Dispute reasons from seed 003 ("reasons for disputes") and seed 001 (returns); the buyer's
# words for each: domain.yml's utter_text_dispute_reason_<code>.
DISPUTE_REASONS: tuple[str, ...] = (
    "not_received", "tracking_stalled", "wrong_destination", "delivery_ending", "not_as_described", "damaged",
    "counterfeit",
)


@dataclass(frozen=True)
class Cancellation:
    requested_at: datetime
    state: CancellationState
    reason: str = "other"
    responded_at: Optional[datetime] = None
    tracking_number: Optional[str] = None


@dataclass(frozen=True)
class Dispute:
    opened_at: datetime
    state: DisputeState
    reason: str
    refund: RefundKind = RefundKind.FULL
    amount: Optional[Decimal] = None
    description: str = ""
    escalated_at: Optional[datetime] = None
    resolved_at: Optional[datetime] = None


@dataclass(frozen=True)
class Order:
    id: str
    customer: str
    seller: str
    item: str
    amount: Decimal
    currency: str
    status: Status
    placed_at: datetime
    payment_method: Optional[PaymentMethod] = None
    paid_at: Optional[datetime] = None
    shipped_at: Optional[datetime] = None
    tracking_number: Optional[str] = None
    delivered_at: Optional[datetime] = None
    confirmed_at: Optional[datetime] = None
    handling_days: Optional[int] = None
    delivery_days: Optional[int] = None
    cancellation: Optional[Cancellation] = None
    dispute: Optional[Dispute] = None
    completed_at: Optional[datetime] = None
    completed_reason: Optional[CompletedReason] = None
    closed_at: Optional[datetime] = None
    closed_reason: Optional[ClosedReason] = None

    @property
    def was_paid(self) -> bool:
        return self.paid_at is not None

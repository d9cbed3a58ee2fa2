"""Every number the order policy uses, with the article it came from.

Sources:
  000  seed article "How to cancel an order on AliExpress (and get a refund)"
  001  seed article "How To Cancel Order On Aliexpress? Return & Refund Policy!!"
  003  seed article "How to cancel the order on Aliexpress."
  facts  shared/reference/marketplace-facts.md (public help pages; used where the articles are silent)

Where the articles disagree, both values are named in `SOURCES` and `choice`
says which one is the default and why. Change a value by building another
`PolicyConfig` (e.g. `dataclasses.replace(DEFAULT, mistaken_confirmation="no_refund")`).
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Literal


@dataclass(frozen=True)
class PolicyConfig:
    unpaid_close_days: int = 20
    payment_check_hours: int = 24
    seller_response_hours: int = 72
    default_handling_days: int = 7
    default_delivery_days: int = 60
    dispute_after_completion_days: int = 15
    dispute_escalation_days: int = 16
    return_window_days: int = 15
    refund_min_days: int = 3
    refund_max_days: int = 20
    refund_not_shipped_min_days: int = 2
    refund_not_shipped_max_days: int = 5
    refund_working_days: int = 20
    mistaken_confirmation: Literal["return_window", "no_refund"] = "return_window"


@dataclass(frozen=True)
class Source:
    value: str
    source: str
    alternatives: str = ""
    choice: str = ""


SOURCES: dict[str, Source] = {
    "unpaid_close_days": Source(
        "20 days", "000: an unpaid order 'can be canceled automatically, within 20 days of its submission'",
        alternatives="003: it stays in the unpaid list 'for a specified time' (no number); no sanctions",
        choice="003 gives no number, so 000's 20 days is the deadline; both say there is no penalty",
    ),
    "payment_check_hours": Source(
        "24 hours", "000: payment processing 'can last up to 24 hours'; no Cancel button meanwhile",
        alternatives="003: 'in the first day after the payment ... all functions are disabled'; "
        "facts: the button appears about 24 hours after payment",
    ),
    "seller_response_hours": Source(
        "72 hours", "001: 'Your order canceled automatically if the seller does not reply ... within 72 hours'",
        alternatives="facts (alifaq.org): the same 72 hours",
    ),
    "default_handling_days": Source(
        "7 calendar days", "facts: handling time is usually 5-7 days and shown on the order; 7 calendar days",
        alternatives="000 and 003: the seller has 'a certain (predetermined) time' to ship (no number)",
        choice="the order's own handling_days wins; 7 only when the order does not say",
    ),
    "default_delivery_days": Source(
        "60 days", "000: 'The maximum delivery time, according to the terms of AliExpress, is 60 days'",
        choice="the order's own delivery_days wins; 60 only when the order does not say",
    ),
    "dispute_after_completion_days": Source(
        "15 days", "001: apply for a refund through 'Open a Dispute' within 15 days of receiving the item",
        alternatives="003: a dispute can be opened only 'until the timer expires'; facts: before Buyer "
        "Protection ends",
    ),
    "dispute_escalation_days": Source(
        "16 days", "003: 'If in 16 days you can not resolve the issue with the seller ... he transferred "
        "to the complaint'; the buyer can click Escalate Dispute before that",
    ),
    "return_window_days": Source(
        "15 days", "001: 'return your Product within 15 days of receiving it', in original condition",
    ),
    "refund_min_days": Source(
        "3 days", "001: 'Refund will be automatically credited to your account within 3-20 days'",
        alternatives="001 also: 'within 20 working days'; 003: 'a couple of weeks'",
        choice="3-20 days is the range the article states for cancellations and disputes; an overdue "
        "refund's answer names 20 working days (refund_working_days) as the outer bound some buyers are told",
    ),
    "refund_max_days": Source(
        "20 days", "001: 3-20 days", alternatives="001: '20 working days'; 003: 'a couple of weeks'",
        choice="see refund_min_days",
    ),
    "refund_not_shipped_min_days": Source(
        "2 days", "003: when the seller never shipped, the money comes back 'within 2-5 days'",
    ),
    "refund_not_shipped_max_days": Source("5 days", "003: 2-5 days"),
    "refund_working_days": Source(
        "20 working days", "001: 'your refund amount will be sent back to you within 20 working days'",
        alternatives="001 also: 3-20 days (refund_min_days, refund_max_days)",
        choice="the outer bound named when a refund is overdue: some card refunds take that long to show",
    ),
    "mistaken_confirmation": Source(
        "return_window",
        "001: a 15-day return window after receiving the item",
        alternatives="000: after confirming receipt by mistake 'it's impossible to ... get a refund' "
        "(set mistaken_confirmation='no_refund')",
        choice="buyer protection still covers 15 days after completion, which matches 001; the bot "
        "tells the buyer that the seller has already been paid and success is not guaranteed",
    ),
}


def policy_table(config: PolicyConfig = PolicyConfig()) -> str:
    """The policy table as Markdown (the README embeds it)."""
    lines = [
        "| setting | value | source | other sources | choice |",
        "|---|---|---|---|---|",
    ]
    for f in fields(config):
        s = SOURCES[f.name]
        value = getattr(config, f.name)
        cells = [f"`{f.name}`", f"{value}", s.source, s.alternatives or "-", s.choice or "-"]
        lines.append("| " + " | ".join(c.replace("|", "/") for c in cells) + " |")
    return "\n".join(lines)


DEFAULT = PolicyConfig()

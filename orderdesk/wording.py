"""The buyer's wording for a policy decision: which responses say it, and the values that fill them.

The words themselves live in domain.yml (responses), ready for translation: this module only
picks response names and computes the values they name (`{closes_at}`, `{seller_hours}`, ...).
Every policy number a response mentions comes from `PolicyConfig` (`config_vars`), every date
from the decision, formatted by `fmt` (the one date format).

No Rasa import: the actions call `variables(...)` and send the responses through Rasa; the
operators' command line renders the same responses with `render` (reading domain.yml as YAML).

Short phrases that other responses embed ("back to the card you paid with", a status in a few
words) are responses too, named `utter_text_<...>`: Rasa cannot nest responses, so their text is
looked up here and passed as a value.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping, Optional

from . import ROOT
from .model import PaymentMethod
from .policy import Decision, completion_at, delivery_window_ends, received_at, refund_destination, return_until
from .policy_config import DEFAULT, PolicyConfig

# The project's domain.yml (the working directory's when the package is installed elsewhere).
DOMAIN_FILE = ROOT / "domain.yml" if (ROOT / "domain.yml").exists() else Path.cwd() / "domain.yml"

# Rasa's own placeholder pattern (rasa.core.nlg.interpolator): `{name}` with no braces or newline inside.
PLACEHOLDER = re.compile(r"{([^\n{}]+?)}")

# What a value that does not apply to this order is filled with (a response that needs it is not sent).
MISSING = "-"

# The PolicyConfig numbers responses may name, by variable (every one is passed with every response).
CONFIG_VARIABLES: dict[str, str] = {
    "seller_hours": "seller_response_hours",
    "check_hours": "payment_check_hours",
    "unpaid_close_days": "unpaid_close_days",
    "return_days": "return_window_days",
    "dispute_days": "dispute_after_completion_days",
    "escalation_days": "dispute_escalation_days",
    "refund_min_days": "refund_min_days",
    "refund_max_days": "refund_max_days",
    "refund_nshipped_min": "refund_not_shipped_min_days",
    "refund_nshipped_max": "refund_not_shipped_max_days",
    "refund_working_days": "refund_working_days",
}

# Every variable `variables()` fills for an order; each is always there (MISSING when it does not apply).
ORDER_VARIABLES = (
    "order_number", "item", "amount", "currency", "status_text", "deadline", "closes_at", "button_appears_at",
    "seller_answer_by", "ship_by", "shipped_at", "delivery_window_ends", "dispute_until", "escalates_at",
    "escalated_at", "return_until", "refund_expected_by", "closed_at", "completed_at", "confirmed_at",
    "received_at", "requested_at", "rejected_at", "opened_at", "destination_text", "tracking_number",
    "dispute_state", "refund_kind",
)
VARIABLES = ORDER_VARIABLES + tuple(CONFIG_VARIABLES)


# --------------------------------------------------------------------------- dates

def fmt(dt: Optional[datetime], now: Optional[datetime] = None) -> str:
    """'Tue 25 Nov, 14:00 UTC' (the year only when it is not the current one); MISSING for no date."""
    if dt is None:
        return MISSING
    dt = dt.astimezone(timezone.utc)
    year = "" if now is not None and dt.year == now.year else f" {dt.year}"
    return f"{dt:%a} {dt.day} {dt:%b}{year}, {dt:%H:%M} UTC"


# --------------------------------------------------------------------------- response names

def response_for_rule(rule: str) -> str:
    """The response that answers a policy rule: `cancel.unpaid` -> `utter_rule_cancel_unpaid`."""
    return "utter_rule_" + rule.replace(".", "_")


def closed_response(reason: Any) -> str:
    """Why a closed order is closed (`ClosedReason`)."""
    return f"utter_closed_{reason.value}"


def destination_response(method: Optional[PaymentMethod]) -> str:
    """The full answer to "where does my refund go?" for a payment method."""
    return "utter_refund_destination_" + refund_destination(method)


def destination_phrase(method: Optional[PaymentMethod]) -> str:
    """The phrase other responses embed ("goes {destination_text}")."""
    return "utter_text_destination_" + refund_destination(method)


def status_phrase(status: Any) -> str:
    return "utter_text_status_" + status.value


# A rule whose wording names a date the order may not have yet: the response for that case.
def rule_response(decision: Decision, question: str) -> str:
    """The response that says the decision's answer to `question`."""
    answer = decision.answers()[question]
    if answer.rule == "cancel.rejected" and "delivery_window_ends" not in answer.dates:
        return "utter_unshipped_cancel_rejected"  # not shipped yet: no delivery window to name
    return response_for_rule(answer.rule)


def answer_responses(decision: Decision, question: str) -> list[str]:
    """What the buyer is told for one of the four questions: why a closed order is closed, then the
    rule's answer (a completed order's cancel answer goes on with what a dispute can still do)."""
    o = decision.order
    names = [closed_response(o.closed_reason)] if o.closed_reason is not None else []
    names.append(rule_response(decision, question))
    if decision.answers()[question].rule == "cancel.completed":
        names.append(rule_response(decision, "dispute"))
    if o.closed_reason is not None and o.closed_reason.value == "seller_cancelled":
        names.append("utter_seller_cancelled_advice")
    return names


# --------------------------------------------------------------------------- the texts (domain.yml responses)

def texts_of(domain: Mapping[str, Any]) -> dict[str, str]:
    """Response name -> its first text, from a domain as a dict (domain.yml as loaded, or the one
    Rasa sends the action server)."""
    out = {}
    for name, variants in (domain.get("responses") or {}).items():
        text = next((v.get("text") for v in variants or [] if isinstance(v, dict) and v.get("text")), None)
        if text is not None:
            out[name] = text
    return out


@lru_cache(maxsize=4)
def _load(path: str, mtime: float) -> dict[str, str]:
    import yaml

    return texts_of(yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {})


def load_texts(path: Path = DOMAIN_FILE) -> dict[str, str]:
    """The responses of domain.yml (read on first use, again when the file changes)."""
    return _load(str(path), path.stat().st_mtime)


def text(name: str, texts: Optional[Mapping[str, str]] = None) -> str:
    texts = load_texts() if texts is None else texts
    if name not in texts:
        raise KeyError(f"no response {name!r} in the domain")
    return texts[name]


def phrase(name: str, texts: Optional[Mapping[str, str]] = None, **values: Any) -> str:
    """A phrase (`utter_text_...`) filled with `values`: every placeholder it names must be given."""
    return render(name, values, texts, strict=True)


def cancel_reason_label(code: str, texts: Optional[Mapping[str, str]] = None) -> str:
    """How a cancellation reason reads in the buyer's confirmation ("I placed a duplicate order")."""
    return text(f"utter_text_cancel_reason_{code}", texts)


def dispute_reason_label(code: str, texts: Optional[Mapping[str, str]] = None) -> str:
    return text(f"utter_text_dispute_reason_{code}", texts)


def placeholders(template: str) -> list[str]:
    return PLACEHOLDER.findall(template)


def render(name: str, values: Mapping[str, Any], texts: Optional[Mapping[str, str]] = None,
           strict: bool = False) -> str:
    """A response filled as Rasa fills it: a `{name}` with no value stays as written (or, strict, raises)."""
    template = text(name, texts)

    def fill(m: re.Match) -> str:
        key = m.group(1)
        if key in values and values[key] is not None:
            return str(values[key])
        if strict:
            raise KeyError(f"{name}: nothing fills {{{key}}}")
        return m.group(0)

    return PLACEHOLDER.sub(fill, template)


# --------------------------------------------------------------------------- the values

def config_vars(cfg: PolicyConfig = DEFAULT) -> dict[str, Any]:
    """The policy numbers any response may name (also before any order is in play)."""
    return {var: getattr(cfg, field) for var, field in CONFIG_VARIABLES.items()}


def variables(decision: Decision, cfg: Optional[PolicyConfig] = None,
              texts: Optional[Mapping[str, str]] = None) -> dict[str, Any]:
    """Every value a response about this decision's order may name (VARIABLES), MISSING where it does not
    apply. The policy numbers are those the decision was made with (`decision.config`) unless `cfg` says."""
    o, now = decision.order, decision.now
    cfg = decision.config if cfg is None else cfg
    f = lambda dt: fmt(dt, now)  # noqa: E731
    out: dict[str, Any] = {k: MISSING for k in ORDER_VARIABLES}
    out.update(config_vars(cfg))
    for a in decision.answers().values():
        for name, dt in a.dates.items():
            out[name] = f(dt)
    refund = decision.refund.facts
    c, d = o.cancellation, o.dispute
    out.update(
        order_number=o.id, item=o.item, amount=f"{o.amount}", currency=o.currency,
        status_text=text(status_phrase(o.status), texts),
        shipped_at=f(o.shipped_at), closed_at=f(o.closed_at), completed_at=f(completion_at(o, cfg)),
        # also while a dispute is open (no answer dates it then): the status still states it
        delivery_window_ends=f(delivery_window_ends(o, cfg)),
        confirmed_at=f(o.confirmed_at), received_at=f(received_at(o)),
        requested_at=f(c.requested_at) if c else MISSING, rejected_at=f(c.responded_at) if c else MISSING,
        opened_at=f(d.opened_at) if d else MISSING, escalated_at=f(d.escalated_at) if d else MISSING,
        dispute_state=d.state.value if d else MISSING, refund_kind=d.refund.value if d else MISSING,
        tracking_number=(c.tracking_number if c and c.tracking_number else o.tracking_number) or MISSING,
        # this order's refund range (a seller who never shipped refunds faster)
        refund_min_days=refund.get("refund_min_days", cfg.refund_min_days),
        refund_max_days=refund.get("refund_max_days", cfg.refund_max_days),
        destination_text=text(destination_phrase(o.payment_method), texts),
    )
    if out["return_until"] == MISSING and received_at(o) is not None:
        out["return_until"] = f(return_until(o, cfg))
    return out


def answer_text(decision: Decision, question: str, cfg: Optional[PolicyConfig] = None,
                texts: Optional[Mapping[str, str]] = None) -> str:
    """The buyer's wording for one of the four answers, as one paragraph (the operators' CLI shows it)."""
    texts = load_texts() if texts is None else texts
    values = variables(decision, cfg, texts)
    return " ".join(render(name, values, texts) for name in answer_responses(decision, question))


def unfilled(template: str, values: Mapping[str, Any]) -> list[str]:
    """Placeholders of `template` that `values` leaves empty."""
    return [p for p in placeholders(template) if values.get(p) is None]

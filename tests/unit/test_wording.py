"""One home for wording and numbers: the buyer's words are domain.yml responses, every policy number
in them is a `{placeholder}` filled from `PolicyConfig`, and every placeholder is one the fill code
(`orderdesk.wording`, the actions) or a slot provides. Also the wording module's own behaviour.
"""
from __future__ import annotations

import ast
import re
from dataclasses import fields, replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from orderdesk import ROOT, wording
from orderdesk.model import Cancellation, CancellationState, ClosedReason, Order, PaymentMethod, Status
from orderdesk.policy import decide
from orderdesk.policy_config import DEFAULT, SOURCES
from support import NOW

DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
TEXTS = wording.texts_of(DOMAIN)
SLOTS = set(DOMAIN["slots"])
NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?![\w.]*\d)")

# The PolicyConfig values a response must never write out.
POLICY_NUMBERS = {getattr(DEFAULT, f.name) for f in fields(DEFAULT)
                  if isinstance(getattr(DEFAULT, f.name), int) and not isinstance(getattr(DEFAULT, f.name), bool)}

# Numbers in responses that equal a policy value by chance, each with why it is not a policy number.
NOT_POLICY = {
    ("utter_ask_order_number", "16"): "the order number's usual length in digits (My Orders), not a deadline",
    ("utter_bad_order_number", "16"): "the order number's usual length in digits",
    ("utter_not_your_order", "16"): "the order number's usual length in digits",
}


def shown_texts(variants: list[dict]) -> list[str]:
    """What the buyer reads of a response: its texts and its button titles."""
    out = []
    for v in variants:
        out.append(v.get("text") or "")
        out += [b.get("title", "") for b in v.get("buttons") or []]
    return out


def policy_numbers_in(name: str, text: str) -> list[str]:
    """Numbers written out in `text` (outside placeholders) that equal a PolicyConfig value, not allowed."""
    bare = wording.PLACEHOLDER.sub(" ", text)
    found = []
    for m in NUMBER.finditer(bare):
        number = Decimal(m.group(0))
        whole = number == number.to_integral_value()
        if whole and int(number) in POLICY_NUMBERS and (name, m.group(0)) not in NOT_POLICY:
            found.append(m.group(0))
    return found


# --------------------------------------------------------------------------- (a) no policy number written out

def test_the_number_check_finds_a_policy_number_written_out():
    assert policy_numbers_in("utter_x", "The seller has 72 hours to answer; a refund takes 3-20 days.") == [
        "72", "3", "20"]
    assert policy_numbers_in("utter_x", "The seller has {seller_hours} hours, for example 7.50 or 0.") == []
    assert policy_numbers_in("utter_ask_order_number", "16 digits") == []
    assert policy_numbers_in("utter_general_dispute", "within 16 days") == ["16"]


def test_no_response_writes_out_a_policy_number():
    written = {name: found for name, variants in DOMAIN["responses"].items()
               for found in [[n for t in shown_texts(variants) for n in policy_numbers_in(name, t)]] if found}
    assert written == {}


def test_every_allowed_number_is_still_in_its_response():
    """An allow-list entry whose number has gone is removed, not kept as a blanket exception."""
    for (name, number), why in NOT_POLICY.items():
        assert why
        texts = shown_texts(DOMAIN["responses"][name])
        assert any(re.search(rf"(?<!\d){number}(?!\d)", wording.PLACEHOLDER.sub(" ", t)) for t in texts), name


# --------------------------------------------------------------------------- (b) every placeholder is filled

def action_keywords() -> set[str]:
    """The variable names the actions pass to utter_message(response=..., name=value)."""
    names: set[str] = set()
    for path in (ROOT / "actions").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "utter_message":
                names |= {k.arg for k in node.keywords if k.arg and k.arg not in ("response", "buttons", "text")}
    return names


def responses_rasa_sends() -> set[str]:
    """Responses Rasa sends without a custom action: the ones stories and rules name, the fallback's, and
    forms' utter_ask_<slot> where no action_ask_<slot> asks instead. Only slots fill them."""
    names: set[str] = {"utter_default", "utter_ask_rephrase"}
    for path in (ROOT / "data").rglob("*.yml"):
        names |= set(re.findall(r"\b(utter_\w+)", path.read_text(encoding="utf-8")))
    for form in DOMAIN["forms"].values():
        for slot in form["required_slots"]:
            if f"action_ask_{slot}" not in DOMAIN["actions"]:
                names.add(f"utter_ask_{slot}")
    return names & set(DOMAIN["responses"])


def test_the_actions_pass_the_variables_the_scan_looks_for():
    assert {"order_number", "reference", "handoff_reference", "locked_until"} <= action_keywords()


def test_every_placeholder_in_every_response_is_provided():
    provided = set(wording.VARIABLES) | SLOTS | action_keywords()
    unknown = {f"{name}: {{{p}}}" for name, variants in DOMAIN["responses"].items()
               for t in shown_texts(variants) for p in wording.placeholders(t) if p not in provided}
    assert unknown == set()


def test_responses_rasa_sends_itself_name_only_slots():
    sent = responses_rasa_sends()
    assert "utter_greet" in sent and "utter_ask_cancel_reason" in sent
    assert "utter_ask_cancel_confirm" not in sent  # action_ask_cancel_confirm passes the seller's hours
    unfilled = {f"{name}: {{{p}}}" for name in sent for t in shown_texts(DOMAIN["responses"][name])
                for p in wording.placeholders(t) if p not in SLOTS}
    assert unfilled == set()


def test_general_answers_and_the_cancel_confirmation_render_from_the_config_alone():
    """Sent before any order is in play: the policy numbers are all they name (besides slots)."""
    values = {**wording.config_vars(), **{s: "x" for s in SLOTS}}
    general = {name for name in TEXTS if name.startswith("utter_general_")}
    assert len(general) >= 7
    for name in {*general, "utter_ask_cancel_confirm"}:
        text = wording.render(name, values, TEXTS, strict=True)
        assert "{" not in text, name
    assert "72 hours" in wording.render("utter_general_cancel", values, TEXTS)
    changed = wording.config_vars(replace(DEFAULT, seller_response_hours=48, payment_check_hours=12))
    text = wording.render("utter_general_cancel", changed, TEXTS)
    assert "(up to 12 hours)" in text and "48 hours to answer" in text and "72" not in text


def test_every_config_variable_is_a_policy_setting_with_a_source():
    names = {f.name for f in fields(DEFAULT)}
    for variable, setting in wording.CONFIG_VARIABLES.items():
        assert setting in names, variable
        assert SOURCES[setting].source, setting
    assert set(wording.config_vars()) == set(wording.CONFIG_VARIABLES)


# --------------------------------------------------------------------------- (c) the wording module

ORDER = Order(id="AE-1001", customer="buyer-1", seller="s", item="USB-C cable", amount=Decimal("12.50"),
              currency="USD", status=Status.AWAITING_SHIPMENT, placed_at=NOW - timedelta(days=3),
              paid_at=NOW - timedelta(days=3), payment_method=PaymentMethod.CARD, handling_days=10)


def test_fmt_is_the_one_date_format():
    assert wording.fmt(datetime(2026, 11, 25, 14, 0, tzinfo=timezone.utc), NOW) == "Wed 25 Nov, 14:00 UTC"
    assert wording.fmt(datetime(2027, 1, 2, 9, 5, tzinfo=timezone.utc), NOW) == "Sat 2 Jan 2027, 09:05 UTC"
    plus3 = timezone(timedelta(hours=3))
    assert wording.fmt(datetime(2026, 11, 25, 17, 0, tzinfo=plus3), NOW) == "Wed 25 Nov, 14:00 UTC"
    assert wording.fmt(None, NOW) == wording.MISSING


def test_render_fills_like_rasa_and_strict_refuses_a_gap():
    texts = {"utter_a": "Until {dispute_until}, {seller_hours} hours; {nothing} stays."}
    assert wording.render("utter_a", {"dispute_until": "Fri 4 Dec", "seller_hours": 72}, texts) == (
        "Until Fri 4 Dec, 72 hours; {nothing} stays.")
    with pytest.raises(KeyError, match="nothing"):
        wording.render("utter_a", {"dispute_until": "x", "seller_hours": 1}, texts, strict=True)
    with pytest.raises(KeyError, match="utter_b"):
        wording.render("utter_b", {}, texts)


def test_texts_of_takes_each_responses_first_text():
    domain = {"responses": {"utter_a": [{"text": "one"}, {"text": "two"}], "utter_b": [{"custom": {}}]}}
    assert wording.texts_of(domain) == {"utter_a": "one"}


def test_variables_fill_every_variable_with_the_decisions_own_numbers():
    cfg = replace(DEFAULT, seller_response_hours=48, refund_max_days=25)
    values = wording.variables(decide(ORDER, NOW, cfg), texts=TEXTS)
    assert set(values) == set(wording.VARIABLES)
    assert values["seller_hours"] == 48 and values["refund_max_days"] == 25
    assert values["destination_text"] == "back to the card you paid with"
    assert values["status_text"] == TEXTS["utter_text_status_awaiting_shipment"]
    assert values["ship_by"] == wording.fmt(NOW + timedelta(days=8), NOW)
    assert values["shipped_at"] == wording.MISSING  # not shipped: a response naming it isn't sent


def test_a_seller_who_never_shipped_refunds_faster_and_the_words_say_so():
    closed = replace(ORDER, status=Status.CLOSED, closed_at=NOW - timedelta(days=1),
                     closed_reason=ClosedReason.NOT_SHIPPED_IN_TIME)
    values = wording.variables(decide(closed, NOW), texts=TEXTS)
    assert (values["refund_min_days"], values["refund_max_days"]) == (2, 5)
    assert wording.config_vars()["refund_min_days"] == 3  # what a general answer names


@pytest.mark.parametrize("method, phrase", [
    (PaymentMethod.ALIPAY_CARD, "to your Alipay balance, not to the card"),
    (PaymentMethod.CARD, "back to the card you paid with"),
    (PaymentMethod.PAYPAL, "back to your PayPal account"),
    (PaymentMethod.WALLET, "back to the e-wallet you paid with"),
    (None, "back to the payment method you used"),
])
def test_where_the_refund_goes_is_a_phrase_in_the_domain(method, phrase):
    decision = decide(replace(ORDER, payment_method=method), NOW)
    assert phrase in wording.variables(decision, texts=TEXTS)["destination_text"]
    assert wording.destination_response(method) in TEXTS


def test_answer_text_says_why_a_closed_order_closed_then_the_rule():
    closed = replace(ORDER, status=Status.CLOSED, closed_at=NOW - timedelta(days=1),
                     closed_reason=ClosedReason.SELLER_NO_RESPONSE,
                     cancellation=Cancellation(requested_at=NOW - timedelta(days=4),
                                               state=CancellationState.AUTO_APPROVED))
    decision = decide(closed, NOW, replace(DEFAULT, seller_response_hours=48))
    assert wording.answer_responses(decision, "cancel") == ["utter_closed_seller_no_response",
                                                             "utter_rule_cancel_closed"]
    text = wording.answer_text(decision, "cancel", texts=TEXTS)
    assert text.startswith("It was cancelled automatically on Sat 21 Nov, 12:00 UTC: the seller didn't answer "
                           "your cancellation request within 48 hours. This order is already closed")


def test_a_rejection_before_shipping_names_no_delivery_window():
    rejected = replace(ORDER, cancellation=Cancellation(
        requested_at=NOW - timedelta(days=1), state=CancellationState.REJECTED, responded_at=NOW - timedelta(hours=3),
        tracking_number="RB987654321CN"))
    decision = decide(rejected, NOW)
    assert decision.cancel.rule == "cancel.rejected"
    assert wording.rule_response(decision, "cancel") == "utter_unshipped_cancel_rejected"
    text = wording.answer_text(decision, "cancel", texts=TEXTS)
    assert "RB987654321CN" in text and " -" not in text and "{" not in text
    shipped = replace(rejected, status=Status.AWAITING_DELIVERY, shipped_at=NOW - timedelta(hours=2))
    assert wording.rule_response(decide(shipped, NOW), "cancel") == "utter_rule_cancel_rejected"


def test_load_texts_reads_the_domain_file(tmp_path: Path):
    f = tmp_path / "domain.yml"
    f.write_text('responses:\n  utter_a:\n    - text: "one {seller_hours}"\n', encoding="utf-8")
    assert wording.load_texts(f) == {"utter_a": "one {seller_hours}"}
    assert wording.load_texts() == TEXTS


# --------------------------------------------------------------------------- ready for translation

# Words with a space between them, not a regular expression: text a person reads.
SENTENCE = re.compile(r"[A-Za-z]{2,}'?[a-z]* [A-Za-z]{2,}")
REGEX_SIGNS = re.compile(r"[|\\()?\[\]^$]")
# Where English stays in actions/ for now, each with why.
NOT_BUYER_TEXT = {
    ("actions.py", "ActionHumanHandoff"): "the handoff's summary for the support team, not for the buyer",
}


def buyer_text_in(path: Path) -> list[str]:
    """String constants in `path` that read like sentences, outside docstrings, raised errors (the
    services' messages, never shown to the buyer), regular expressions and NOT_BUYER_TEXT."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        first = body[0] if isinstance(body, list) and body else None
        if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
            skip.add(id(first.value))  # a docstring
        target = (node.targets[0] if isinstance(node, ast.Assign) else
                  node.target if isinstance(node, ast.AnnAssign) else None)
        named = (node.name if isinstance(node, (ast.ClassDef, ast.FunctionDef)) else
                 target.id if isinstance(target, ast.Name) else None)
        if isinstance(node, ast.Raise) or {(path.name, named), ("*", named)} & set(NOT_BUYER_TEXT):
            skip |= {id(n) for n in ast.walk(node)}
    return [f"{path.name}:{n.lineno}: {n.value!r}" for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in skip
            and SENTENCE.search(n.value) and not REGEX_SIGNS.search(n.value)]


def test_the_scan_finds_buyer_text_in_code(tmp_path: Path):
    f = tmp_path / "actions.py"
    f.write_text('def run(d):\n    """Docstring words here."""\n    d.utter_message(text="Your refund is late")\n'
                 '    raise ValueError("an error for the log")\n    return re.compile(r"\\bnot (came|arrived)")\n')
    assert buyer_text_in(f) == ["actions.py:3: 'Your refund is late'"]


def test_no_buyer_text_in_the_actions_code():
    """Everything the buyer reads is a domain.yml response (or a value: an item, a date), so a
    translation is a domain.yml change only."""
    found = [hit for path in sorted((ROOT / "actions").glob("*.py")) for hit in buyer_text_in(path)]
    assert found == []


def test_the_channels_own_replies_are_domain_responses():
    from orderdesk.channels import slack, socketio, telegram

    for name in (telegram.PRIVATE_ONLY_REPLY, telegram.EXPIRED_BUTTON_REPLY, telegram.NOT_TEXT_REPLY,
                 socketio.NOT_TEXT_REPLY, slack.IN_DM_NOTE):
        assert name in TEXTS, name
    from orderdesk.channels.common import too_long_reply

    assert too_long_reply(12345, 4000) == ("That message is too long for me (12,345 characters; I read up to 4,000). "
                                           "Please send the key details in a shorter message: the order number and "
                                           "what you need.")


def test_reason_labels_are_domain_phrases_for_every_reason():
    from orderdesk.model import CANCELLATION_REASONS, DISPUTE_REASONS

    assert wording.cancel_reason_label("duplicate_order") == "I placed a duplicate order"
    assert all(wording.cancel_reason_label(c) for c in CANCELLATION_REASONS)
    assert all(wording.dispute_reason_label(c) for c in DISPUTE_REASONS)

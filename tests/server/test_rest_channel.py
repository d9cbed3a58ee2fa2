"""The running assistant, through our REST channel (the servers: serverkit, one pair per session)."""
from __future__ import annotations

import json

from orderdesk import db
from serverkit import count, fresh, post, say, texts


def test_linked_buyer_is_offered_their_recent_orders_as_buttons(server):
    replies = say(fresh("demo"), "why is there no cancel button")
    buttons = [b for r in replies for b in r.get("buttons", [])]
    assert "Which order" in texts(replies)
    assert 1 <= len(buttons) <= 5
    assert all(len(b["payload"].encode()) <= 64 for b in buttons)


def test_no_cancel_button_answer_names_the_payment_check_and_when_it_ends(server):
    say(fresh("demo"), "why is there no cancel button")
    replies = say("demo", '/provide_order_number{"order_number":"8100000000000002"}')
    text = texts(replies)
    assert "payment is still being checked" in text
    assert "UTC" in text  # the exact time the button appears


def test_seller_rejected_cancellation_points_to_tracking_and_dispute(server):
    say(fresh("demo"), "the seller rejected my cancellation")
    text = texts(say("demo", '/provide_order_number{"order_number":"8100000000000006"}'))
    assert "RB123456789CN" in text
    assert "dispute" in text


def test_stranger_must_give_the_email_before_hearing_about_an_order(server):
    text = texts(say("stranger-1", "where is my refund for order 8100000000000007"))
    assert "email" in text
    assert "42.00" not in text and "Alipay" not in text
    text = texts(say("stranger-1", "my email is demo@example.com"))
    assert "Alipay" in text


def test_cancellation_is_filed_once_even_when_confirmed_twice(server):
    sender = fresh("demo")
    say(sender, "I want to cancel my order 8100000000000003")
    say(sender, "/affirm")
    say(sender, '/inform{"cancel_reason":"wrong_product"}')
    before = count(server["url"], db.cancellation_requests)
    text = texts(say(sender, "/affirm"))
    assert "CXL-8100000000000003" in text
    say(sender, "/affirm")  # the button clicked again
    assert count(server["url"], db.cancellation_requests) == before + 1


def test_a_ten_thousand_character_message_gets_an_answer(server):
    replies = say("long-message", "my order " + "really " * 1430)
    assert isinstance(replies, list)
    assert texts(replies).strip()


def test_an_order_number_in_the_middle_of_a_ten_thousand_character_message_is_not_lost(server):
    # The NLU classifies on the first and last 64 tokens; the regex extractor still reads the whole text.
    filler = "I ordered a desk lamp last week and I have been thinking about it for days. " * 70
    message = filler + "The order is 8100000000000003. " + filler + "I want to cancel this order."
    assert len(message) > 10_000
    text = texts(say(fresh("demo"), message))
    assert "8100000000000003" in text and "LED desk lamp" in text


# --------------------------------------------------------------------------- who may talk, and how much

def test_a_request_without_the_bearer_token_is_refused_and_reaches_no_conversation(server):
    status, body = post(json.dumps({"sender": "demo", "message": "why is there no cancel button"}).encode(),
                        token=None)
    assert status == 401
    assert b"Which order" not in body
    status, _ = post(json.dumps({"sender": "demo", "message": "hi"}).encode(), token="wrong-token")
    assert status == 401


def test_input_channel_in_the_body_is_ignored_so_a_caller_cannot_borrow_a_link(server):
    # The demo buyer is linked on "rest" as sender "demo" only; claiming another channel changes nothing,
    # and a stranger claiming the cmdline channel stays a stranger.
    body = {"sender": "stranger-channel", "message": "why is there no cancel button", "input_channel": "cmdline",
            "metadata": {"orderdesk": {"channel": "rest", "customer_id": "demo"}}}
    say("stranger-channel", "/restart")
    status, raw = post(json.dumps(body).encode())
    assert status == 200
    text = texts(json.loads(raw))
    assert "Which order" not in text and "8100000000000002" not in text


def test_bad_bodies_get_a_4xx_without_a_traceback(server):
    for raw in (b"[1, 2]", b"not json", b'{"sender": "x"}', b'{"message": "hi"}', b'{"sender": "", "message": "hi"}',
                b'{"sender": 5, "message": "hi"}', b'{"sender": "x", "message": 5}'):
        status, body = post(raw)
        assert 400 <= status < 500, (raw, status)
        assert b"Traceback" not in body


def test_an_oversize_message_gets_a_clear_answer_and_is_not_processed(server):
    status, body = post(json.dumps({"sender": "huge", "message": "x" * 1_000_000}).encode())
    assert status == 413
    assert "too long" in texts(json.loads(body))


def test_a_body_over_two_megabytes_and_oversized_metadata_are_refused_before_any_processing(server):
    status, _ = post(json.dumps({"sender": "huge", "message": "hi", "pad": "x" * 3_000_000}).encode())
    assert status == 413
    status, body = post(json.dumps({"sender": "meta", "message": "hi", "metadata": {"x": "y" * 10_000}}).encode())
    assert status == 413 and b"metadata" in body

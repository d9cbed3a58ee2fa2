"""Logs safe to keep: no emails, nothing past a few hundred characters, no log call broken by its text."""
from __future__ import annotations

import io
import logging

import pytest

from orderdesk.servers import logsafe


@pytest.fixture
def captured():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger = logging.getLogger("orderdesk.test.logsafe")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    logsafe.install()
    yield logger, stream
    logsafe.uninstall()
    logger.removeHandler(handler)


def test_emails_are_masked(captured):
    logger, stream = captured
    logger.info("Received user message 'my email is ana.silva+shop@example.com' from %s", "x")
    logger.info("%s", {"text": "demo@example.com"})
    out = stream.getvalue()
    assert "example.com" not in out and "ana.silva" not in out
    assert out.count(logsafe.MASK) == 2


def test_a_two_megabyte_message_is_cut_to_a_few_hundred_characters(captured):
    logger, stream = captured
    logger.warning("message: %s", "x" * 2_000_000)
    line = stream.getvalue().strip()
    assert len(line) < logsafe.MAX_LOG_CHARS + 100
    assert "cut at" in line


def test_braces_and_percent_signs_in_a_payload_do_not_break_the_log_call(captured, capsys):
    logger, stream = captured
    payload = '/provide_order_number{"order_number":"8100000000000003"}'
    logger.info(payload + " %s %d")  # a payload used as the format string, with no arguments
    logger.info(payload + " %s %d", "only one")  # arguments that do not fit
    logger.info("clicked %s", payload)
    out = stream.getvalue()
    assert out.count("8100000000000003") == 3
    assert "Logging error" not in capsys.readouterr().err


def test_an_exception_text_is_masked_and_cut_but_the_exception_is_untouched(captured):
    logger, stream = captured
    error = ValueError("bad body: {'email': 'victim@example.com', 'text': '" + "y" * 5000 + "'}")
    try:
        raise error
    except ValueError:
        logger.exception("request failed")
    out = stream.getvalue()
    assert "victim@example.com" not in out and "Traceback" in out
    assert max(len(line) for line in out.splitlines()) < logsafe.MAX_LOG_CHARS + 100
    assert "victim@example.com" in str(error)


def test_clean_is_linear_on_a_long_run_without_spaces():
    text = "a@" * 500_000  # worst case for a naive email pattern
    assert len(logsafe.clean(text)) < logsafe.MAX_LOG_CHARS + 50

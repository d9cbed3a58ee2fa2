"""Logs safe to keep: every log record is formatted once, at creation, with emails masked and long text cut.

A record factory rather than a handler filter, because Rasa and Sanic install and replace their own handlers
after start-up; every record passes through the factory whatever handler writes it. Formatting at creation
also means a message whose own text has braces or percent signs (a button payload such as
`/provide_order_number{"order_number":"1"}` that a library logs with `%`-style or `{}`-style arguments) can
no longer break the log call: a record that cannot be formatted is logged as its raw parts instead.
"""
from __future__ import annotations

import logging
import re
import traceback
from typing import Any, Callable

MAX_LOG_CHARS = 400  # per record (and per traceback line); the rest is cut, with a note saying so
MAX_TRACEBACK_LINES = 60
# Linear on any input: the local part starts after a space, an @ or the start, and both parts are bounded.
EMAIL_RE = re.compile(r"(?<![^@\s\"'<(\[,;:=])[^@\s\"'<>(),;:\[\]]{1,64}@[^@\s\"'<>(),;:\[\]]{1,255}\.[A-Za-z]{2,24}")
MASK = "<email>"

_installed: list[Callable[..., logging.LogRecord]] = []


def clean(text: str, limit: int = MAX_LOG_CHARS) -> str:
    """`text` with email addresses masked and cut to `limit` characters (the original length noted)."""
    if len(text) > limit * 4:  # mask only what is kept: never scan a megabyte to log 400 characters
        text = text[: limit * 4]
        cut = True
    else:
        cut = False
    text = EMAIL_RE.sub(MASK, text)
    if cut or len(text) > limit:
        return text[:limit] + f"... [cut at {limit} characters]"
    return text


def _message(record: logging.LogRecord) -> str:
    try:
        return record.getMessage()
    except Exception:  # noqa: BLE001 - a bad format string or arguments: keep the raw parts
        return f"{record.msg!s} {record.args!r}"


def install(limit: int = MAX_LOG_CHARS) -> None:
    """Make every log record of this process safe (idempotent)."""
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        record.msg = clean(_message(record), limit)
        record.args = ()
        if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
            # An exception's text can carry the input (a JSON error quotes the body): the traceback is
            # formatted now, each line masked and cut; the exception itself is left as it is.
            lines = "".join(traceback.format_exception(*record.exc_info)).splitlines()
            record.exc_text = "\n".join(clean(line, limit) for line in lines[-MAX_TRACEBACK_LINES:])
        return record

    logging.setLogRecordFactory(factory)
    _installed.append(previous)


def uninstall() -> None:
    """Back to the factory before `install` (tests)."""
    if _installed:
        logging.setLogRecordFactory(_installed.pop())

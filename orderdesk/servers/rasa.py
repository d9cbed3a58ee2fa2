"""`rasa run` with the action call bounded and a fallback answer: `python -m orderdesk.servers.rasa run ...`.

Rasa 3.6 waits up to 300 s for the action server (a constant, `DEFAULT_REQUEST_TIMEOUT`), while the
conversation's lock lives 60 s; an action server that is down or hung leaves the buyer with no answer at all
(the processor logs the error and drops the action's events). Here, before Rasa's own command line runs:

* every call to the action server is bounded by `ORDERDESK_ACTION_TIMEOUT` seconds (default 10, at most 50:
  below the 60 s lock lifetime);
* an action call that fails (refused connection, timeout, 5xx, 401) answers `utter_action_unavailable` from
  the domain instead of nothing; a form's validation rejection (`ActionExecutionRejection`) is left to Rasa;
* every log record is made safe to keep (`logsafe`);
* the action server's answer is checked against Rasa's response schema with a validator built once: Rasa's own
  check calls `jsonschema.validate`, which checks the schema itself again on every call (a fifth of the
  server's time in a profile under load), for the same result;
* request bodies are capped at 2 MB (`SANIC_REQUEST_MAX_SIZE`) instead of Sanic's 100 MB.

Patching is confined to this entry point: importing the module changes nothing, `install()` does.
"""
from __future__ import annotations

import asyncio
import logging
import os
import sys
from typing import Any, Optional

from . import logsafe

log = logging.getLogger(__name__)

TIMEOUT_ENV = "ORDERDESK_ACTION_TIMEOUT"
VALIDATION_ENV = "ORDERDESK_ACTION_VALIDATION"
DEFAULT_TIMEOUT = 10.0
MAX_TIMEOUT = 50.0  # the lock store's ticket lives 60 s (TICKET_LOCK_LIFETIME)
FALLBACK_RESPONSE = "utter_action_unavailable"
# The last resort: utter_action_unavailable's text when even domain.yml can't be read (keep the two alike).
FALLBACK_TEXT = "Sorry, I couldn't finish that just now. Please try again in a minute, or say \"talk to a person\"."

_original_run: list[Any] = []


def action_timeout(raw: Optional[str] = None) -> float:
    """Seconds to wait for the action server: the env value clamped to (0, MAX_TIMEOUT], else the default."""
    raw = os.environ.get(TIMEOUT_ENV) if raw is None else raw
    try:
        value = float(raw) if raw else DEFAULT_TIMEOUT
    except ValueError:
        value = DEFAULT_TIMEOUT
    return min(max(value, 0.5), MAX_TIMEOUT)


async def _fallback(nlg: Any, tracker: Any, output_channel: Any) -> list[Any]:
    from rasa.core.actions.action import create_bot_utterance

    try:
        message = await nlg.generate(FALLBACK_RESPONSE, tracker, output_channel.name())
    except Exception:  # noqa: BLE001 - the fallback must not fail in turn
        message = None
    return [create_bot_utterance(dict(message or {"text": _last_resort_text()}))]


def _last_resort_text() -> str:
    """utter_action_unavailable's text, read from domain.yml; FALLBACK_TEXT only if even that fails."""
    try:
        from orderdesk.wording import text

        return text(FALLBACK_RESPONSE)
    except Exception:  # noqa: BLE001 - the fallback must not fail in turn
        return FALLBACK_TEXT


def install(timeout: Optional[float] = None) -> float:
    """Bound the action call and answer when it fails. Idempotent; returns the timeout in seconds."""
    import rasa.core.actions.action as action_module
    import rasa.utils.endpoints as endpoints_module
    from rasa.core.actions.action import ActionExecutionRejection, RemoteAction

    seconds = action_timeout() if timeout is None else timeout
    # The constant is read at call time by both modules: the request and the client session.
    action_module.DEFAULT_REQUEST_TIMEOUT = seconds
    endpoints_module.DEFAULT_REQUEST_TIMEOUT = seconds
    if _original_run:
        return seconds
    original = RemoteAction.run
    _original_run.append(original)

    async def run(self: Any, output_channel: Any, nlg: Any, tracker: Any, domain: Any) -> list[Any]:
        try:
            return await asyncio.wait_for(original(self, output_channel, nlg, tracker, domain), seconds + 1)
        except ActionExecutionRejection:
            raise
        except Exception as e:  # noqa: BLE001 - any failure of the call: the buyer gets a clear answer
            log.error("custom action %s failed (%s); answered with %s", self.name(), type(e).__name__,
                      FALLBACK_RESPONSE)
            return await _fallback(nlg, tracker, output_channel)

    RemoteAction.run = run
    if os.environ.get(VALIDATION_ENV) != "rasa":  # "rasa": Rasa's own check, kept to measure the difference
        RemoteAction._validate_action_result = _validate_action_result
    return seconds


_validator: list[Any] = []


def _validate_action_result(self: Any, result: dict[str, Any]) -> bool:
    """Rasa's check of an action server's answer (same schema, same error), with the validator built once."""
    from jsonschema import ValidationError, validators
    from jsonschema.exceptions import best_match

    if not _validator:
        spec = self.action_response_format_spec()
        cls = validators.validator_for(spec)
        cls.check_schema(spec)
        _validator.append(cls(spec))
    error = best_match(_validator[0].iter_errors(result))
    if error is None:
        return True
    assert isinstance(error, ValidationError)
    error.message += (". Failed to validate Action server response from API, make sure your response from the "
                      "Action endpoint is valid.")
    raise error
MAX_BODY_BYTES = 2 * 1024 * 1024  # a capped message (12,000 characters) in JSON is far below this


def main(argv: Optional[list[str]] = None) -> None:
    logsafe.install()
    install()
    # Sanic reads SANIC_* variables into the app's config: bodies over this are refused (413) before parsing,
    # where the default would read and parse 100 MB.
    os.environ.setdefault("SANIC_REQUEST_MAX_SIZE", str(MAX_BODY_BYTES))
    from orderdesk.nlp import rasa_cli

    rasa_cli.main(list(sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    main()

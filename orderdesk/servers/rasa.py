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
* request bodies are capped at 2 MB (`SANIC_REQUEST_MAX_SIZE`) instead of Sanic's 100 MB;
* the server keeps one HTTP client session (a pool of kept-alive connections) per endpoint: Rasa 3.6's
  `EndpointConfig.request` opens a new `aiohttp.ClientSession`, so a new TCP connection, for every action call;
  the sessions are closed when the server stops (`pool_http()`, `close_http_sessions()`);
* the policies' dialogue states are built for the end of the conversation only, with the same result
  (`orderdesk.servers.states`): Rasa builds them for the whole session, several times a message;
* TED runs only when its prediction can change the outcome (`orderdesk.servers.prediction`);
* DIET and TED run their traced TensorFlow graph directly (`orderdesk.servers.tfcall`), not through
  `tf.function`'s per-call lookup;
* an event's class is looked up by its name in a table built once: Rasa lists every subclass of `Event`
  for every event it reads (the tracker from the store, the action server's answer).

Patching is confined to this entry point: importing the module changes nothing, `install()` does.
"""
from __future__ import annotations

import asyncio
import logging
import os
import sys
from typing import Any, Optional

from . import fastjson, logsafe

log = logging.getLogger(__name__)

TIMEOUT_ENV = "ORDERDESK_ACTION_TIMEOUT"
VALIDATION_ENV = "ORDERDESK_ACTION_VALIDATION"
DEFAULT_TIMEOUT = 10.0
MAX_TIMEOUT = 50.0  # the lock store's ticket lives 60 s (TICKET_LOCK_LIFETIME)
FALLBACK_RESPONSE = "utter_action_unavailable"
# The last resort: utter_action_unavailable's text when even domain.yml can't be read (keep the two alike).
FALLBACK_TEXT = "Sorry, I couldn't finish that just now. Please try again in a minute, or say \"talk to a person\"."

_original_run: list[Any] = []
_original_request: list[Any] = []
POOL_ENV = "ORDERDESK_HTTP_POOL"  # "0": a new session per call, as Rasa does (kept to measure the difference)
# Idle kept-alive connections are dropped after this: below the 5 s after which the action server (Sanic) closes
# an idle connection itself, so a request never goes out on a connection the server is closing.
KEEPALIVE_SECONDS = 4.0
# (endpoint's settings, event loop) -> session; a session belongs to the loop it was opened on.
_sessions: dict[tuple[Any, Any], Any] = {}


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


def _session_key(endpoint: Any, loop: Any) -> tuple[Any, Any]:
    basic = tuple(sorted((endpoint.basic_auth or {}).items()))
    return (endpoint.url, tuple(sorted((k, str(v)) for k, v in (endpoint.headers or {}).items())), basic, loop)


def _shared_session(endpoint: Any) -> Any:
    """The open session for `endpoint`'s settings on the running loop (opened on first use)."""
    import aiohttp

    loop = asyncio.get_running_loop()
    key = _session_key(endpoint, loop)
    session = _sessions.get(key)
    if session is None or session.closed:
        auth = None
        if endpoint.basic_auth:
            auth = aiohttp.BasicAuth(endpoint.basic_auth["username"], endpoint.basic_auth["password"])
        session = aiohttp.ClientSession(
            headers=endpoint.headers, auth=auth, json_serialize=fastjson.dumps,
            connector=aiohttp.TCPConnector(limit=0, keepalive_timeout=KEEPALIVE_SECONDS),
            timeout=aiohttp.ClientTimeout(total=_endpoints_timeout()))
        _sessions[key] = session
    return session


def _endpoints_timeout() -> float:
    import rasa.utils.endpoints as endpoints_module

    return float(endpoints_module.DEFAULT_REQUEST_TIMEOUT)


async def _pooled_request(self: Any, method: str = "post", subpath: Optional[str] = None,
                          content_type: Optional[str] = "application/json", compress: bool = False,
                          **kwargs: Any) -> Optional[Any]:
    """`EndpointConfig.request` (same headers, parameters, errors and answer) on the shared session."""
    import ssl

    from aiohttp import ContentTypeError
    from rasa.shared.exceptions import FileNotFoundException
    from rasa.utils.endpoints import ClientResponseError, concat_url

    headers = {"Content-Type": content_type} if content_type else {}
    headers.update(kwargs.pop("headers", None) or {})
    headers.update(self.headers or {})
    sslcontext = None
    if self.cafile:
        try:
            sslcontext = ssl.create_default_context(cafile=self.cafile)
        except FileNotFoundError as e:
            raise FileNotFoundException(f"Failed to find certificate file, '{os.path.abspath(self.cafile)}' "
                                        "does not exist.") from e
    from aiohttp import ClientOSError, ServerDisconnectedError

    session = _shared_session(self)
    for attempt in (1, 2):
        try:
            async with session.request(method, concat_url(self.url, subpath), headers=headers,
                                       params=self.combine_parameters(kwargs), compress=compress, ssl=sslcontext,
                                       **kwargs) as response:
                if response.status >= 400:
                    raise ClientResponseError(response.status, response.reason, await response.content.read())
                try:
                    return await response.json()
                except ContentTypeError:
                    return None
        except (ServerDisconnectedError, ClientOSError):
            # A kept-alive connection the server closed while it sat idle in the pool (seen once in 600
            # cluster-test conversations): once more on a fresh connection, as HTTP clients do for a stale
            # pooled connection. Filing is idempotent, so even a request that did arrive is safe to repeat.
            if attempt == 2:
                raise
    return None


def pool_http() -> bool:
    """Make `EndpointConfig.request` reuse one session per endpoint and loop (idempotent). False when switched
    off by ORDERDESK_HTTP_POOL=0."""
    from rasa.utils.endpoints import EndpointConfig

    if os.environ.get(POOL_ENV) == "0":
        return False
    if not _original_request:
        _original_request.append(EndpointConfig.request)
        EndpointConfig.request = _pooled_request
    return True


async def close_http_sessions() -> int:
    """Close the shared sessions opened on the running loop; returns how many were closed."""
    loop = asyncio.get_running_loop()
    mine = [k for k in _sessions if k[-1] is loop]
    for key in mine:
        await _sessions.pop(key).close()
    return len(mine)


def _close_on_stop() -> None:
    """Rasa's server closes its resources after it stops (`rasa.core.run.close_resources`): ours too."""
    import rasa.core.run as run_module

    original = run_module.close_resources
    if getattr(original, "_orderdesk", False):
        return

    async def close_resources(app: Any, loop: Any) -> None:
        try:
            await original(app, loop)
        finally:
            await close_http_sessions()

    close_resources._orderdesk = True  # type: ignore[attr-defined]
    run_module.close_resources = close_resources


_event_types: dict[str, Any] = {}
EVENT_TABLE_ENV = "ORDERDESK_EVENT_TABLE"  # "0": Rasa's own lookup (kept to measure the difference)


def cache_event_types() -> None:
    """`Event.resolve_by_type` from a table of the event classes known at start-up (idempotent). Rasa walks
    `all_subclasses(Event)` for every event it deserialises, and takes the first class with the name: so does
    the table; a name it lacks goes to Rasa's own lookup (which also gives the default or the error)."""
    from rasa.shared.core.events import Event
    from rasa.shared.utils.common import all_subclasses

    if _event_types:
        return
    for cls in all_subclasses(Event):
        _event_types.setdefault(cls.type_name, cls)
    original = Event.resolve_by_type

    def resolve_by_type(type_name: str, default: Optional[Any] = None) -> Optional[Any]:
        found = _event_types.get(type_name)
        return found if found is not None else original(type_name, default)

    Event.resolve_by_type = staticmethod(resolve_by_type)


_validator: list[Any] = []  # [fast check or None, jsonschema validator], built on the first answer


def _compile_answer_check(spec: dict[str, Any]) -> Optional[Any]:
    """A check that accepts only answers Rasa's schema accepts, without its `oneOf` over every event type.

    Each event must match exactly one of the schema's event branches, and every branch fixes `event` to its
    own constant: so an event is valid when the one branch named by its `event` accepts it (and the rest of
    the schema does). The branches are compiled by fastjsonschema. None when the schema is not of that shape
    (a later Rasa): then jsonschema checks every answer, as before."""
    import copy

    import fastjsonschema

    items = (spec.get("properties", {}).get("events") or {}).get("items") or {}
    branches = items.get("oneOf") or []
    names = [(b.get("properties") or {}).get("event", {}).get("const") for b in branches]
    if (not branches or any(not isinstance(n, str) for n in names) or len(set(names)) != len(names)
            or "event" not in (items.get("required") or [])
            or items.get("properties", {}).get("event") != {"type": "string"}):
        return None
    rest = copy.deepcopy(spec)
    del rest["properties"]["events"]["items"]["oneOf"]
    whole = fastjsonschema.compile(rest)
    by_name = {name: fastjsonschema.compile(branch) for name, branch in zip(names, branches)}

    def check(answer: Any) -> bool:
        try:
            whole(answer)
            for event in answer.get("events") or []:
                branch = by_name.get(event["event"])
                if branch is None:
                    return False
                branch(event)
        except fastjsonschema.JsonSchemaException:
            return False
        return True

    return check


def _validate_action_result(self: Any, result: dict[str, Any]) -> bool:
    """Rasa's check of an action server's answer (same schema, same error), built once.

    A valid answer (every answer of a healthy action server) passes the compiled check, about a hundred times
    faster than jsonschema's `oneOf` over every event type (30 microseconds against 3 ms for an answer with
    five events); an answer that it refuses is checked again by jsonschema, whose best match is the error Rasa
    itself raises."""
    from jsonschema import ValidationError, validators
    from jsonschema.exceptions import best_match

    if not _validator:
        spec = self.action_response_format_spec()
        cls = validators.validator_for(spec)
        cls.check_schema(spec)
        _validator.extend([_compile_answer_check(spec), cls(spec)])
    if _validator[0] is not None and _validator[0](result):
        return True
    error = best_match(_validator[1].iter_errors(result))
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
    if pool_http():
        _close_on_stop()
    from . import graphrun, prediction, rules, sparse, states, tfcall

    graphrun.install()
    tfcall.install()
    states.install()
    prediction.install()
    rules.install()
    sparse.install()
    if os.environ.get(EVENT_TABLE_ENV) != "0":
        cache_event_types()
    # Sanic reads SANIC_* variables into the app's config: bodies over this are refused (413) before parsing,
    # where the default would read and parse 100 MB.
    os.environ.setdefault("SANIC_REQUEST_MAX_SIZE", str(MAX_BODY_BYTES))
    from orderdesk.nlp import rasa_cli

    rasa_cli.main(list(sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    main()

"""The action server, authenticated: `python -m orderdesk.servers.actions [--port 5055] [--host 127.0.0.1]`.

rasa_sdk's own server (`rasa run actions`) runs any action for anyone who can reach it, listens on 0.0.0.0 and
echoes the request body in its errors. This one:

* runs an action only for a caller that sends `Authorization: Bearer <secret>`, the secret being
  `ORDERDESK_ACTIONS_SECRET` (Rasa sends it from `action_endpoint: headers:` in endpoints.yml); anything else
  gets 401 before any action runs, and with no secret configured the server refuses to start;
* keeps `/health` open (it says nothing but "ok");
* listens on 127.0.0.1 unless `--host` / `ORDERDESK_ACTIONS_HOST` says otherwise;
* answers a bad body with a 4xx and a one-line reason, an action that fails with a 500 and a fixed text:
  never the request, never a traceback;
* caps the body (`MAX_BODY_BYTES`): a tracker is a few hundred kilobytes at most, the REST channel caps
  messages, so more is not a conversation;
* runs the actions written as plain functions (every one that reads the order database) on a thread pool
  (`ORDERDESK_ACTION_THREADS`, default 8; 0 runs them inline), not on the event loop: rasa_sdk calls them inline, so one slow
  query used to stall every other conversation's action;
* gives each action one connection to the order database, checked out at its first query, for all its short
  transactions (`orderdesk.db.one_connection`; `ORDERDESK_SHARED_CONNECTION=0`: one checkout per transaction);
* leaves out of an action's answer every `SlotSet` that sets a slot to the value it already has
  (`ORDERDESK_SLOT_CHANGES`, default on; `0` sends every event, as rasa_sdk does): see `changes_only`.
"""
from __future__ import annotations

import argparse
import asyncio
import inspect
import logging
import os
import sys
import zlib
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Optional

from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from orderdesk.channels.common import same_secret

from . import fastjson, logsafe

log = logging.getLogger(__name__)

SECRET_ENV = "ORDERDESK_ACTIONS_SECRET"
HOST_ENV = "ORDERDESK_ACTIONS_HOST"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 5055
MAX_BODY_BYTES = 8 * 1024 * 1024  # a tracker with a long conversation stays far below this
THREADS_ENV = "ORDERDESK_ACTION_THREADS"
DEFAULT_THREADS = 8
SLOT_CHANGES_ENV = "ORDERDESK_SLOT_CHANGES"
SHARED_CONNECTION_ENV = "ORDERDESK_SHARED_CONNECTION"
# Events that leave every slot as it was: a `SlotSet` after one of them still meets the values it met before.
# Any other event (a session start, a restart, a reset, a reverted turn) may change slots: the rest of the
# answer is sent as it is.
_SLOTS_UNTOUCHED = frozenset({"active_loop", "followup", "bot", "action_execution_rejected"})


def _same(a: Any, b: Any) -> bool:
    """Equal and of the same type (True is not 1, 1.0 is not 1): the slot would hold exactly this value."""
    return type(a) is type(b) and a == b


def changes_only(action: str, slots: Any, events: Any) -> Any:
    """An action's events without the `SlotSet`s that set a slot to the value it already has.

    Actions here answer with every slot of the order in play, most of them unchanged (an answer sets about 20
    slots, usually 2-4 of them to a new value), and every event is sent back to Rasa, stored as a row, loaded
    and replayed on every later message, and sent to every later action. A slot set to its own value changes
    nothing the dialogue reads: the policies featurize slot values, not events, and a rule's or story's
    `slot_was_set` step is matched against the values. Kept as they are:

    * form validation actions (`validate_<form>`, `action_validate_slot_mappings`): Rasa's form reads their
      `SlotSet`s as "this slot was validated", and rejects the turn when there is none;
    * everything from the first event that may change slots in another way (see `_SLOTS_UNTOUCHED`);
    * a `SlotSet` for a slot the tracker does not know, or that carries anything beyond name and value.
    """
    if (not isinstance(events, list) or not isinstance(slots, dict) or not isinstance(action, str)
            or action.startswith("validate_") or action == "action_validate_slot_mappings"):
        return events
    values = dict(slots)
    kept = []
    for i, event in enumerate(events):
        kind = event.get("event") if isinstance(event, dict) else None
        if kind == "slot":
            name, value = event.get("name"), event.get("value")
            if (isinstance(name, str) and name in values and _same(values[name], value)
                    and set(event) <= {"event", "name", "value", "timestamp"} and event.get("timestamp") is None):
                continue
            if isinstance(name, str):
                values[name] = value
        elif kind not in _SLOTS_UNTOUCHED:
            return kept + events[i:]
        kept.append(event)
    return kept


def run_off_the_loop(actions: dict[str, Callable], pool: ThreadPoolExecutor,
                     around: Optional[Callable[[], Any]] = None) -> int:
    """Replace every synchronous action function in `actions` (rasa_sdk's registry) by a coroutine that runs it
    on `pool`, inside the context manager `around()` when given. Returns how many were moved."""
    def threaded(f: Callable) -> Callable:
        def call(dispatcher: Any, tracker: Any, domain: Any) -> Any:
            with around():
                return f(dispatcher, tracker, domain)

        target = f if around is None else call

        async def run(dispatcher: Any, tracker: Any, domain: Any) -> Any:
            return await asyncio.get_running_loop().run_in_executor(pool, target, dispatcher, tracker, domain)
        return run

    moved = 0
    for name, f in list(actions.items()):
        if not inspect.iscoroutinefunction(f):
            actions[name] = threaded(f)
            moved += 1
    return moved


def _bearer(request: Request) -> str:
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    return given.strip() if scheme.lower() == "bearer" else ""


def _error(status: int, text: str) -> HTTPResponse:
    return response.json({"error": text}, status=status)


def _action_call(request: Request) -> Optional[dict[str, Any]]:
    """The JSON object in the body (deflated or not), or None when there is none."""
    raw = request.body or b""
    try:
        if request.headers.get("content-encoding") == "deflate":
            inflater = zlib.decompressobj()
            raw = inflater.decompress(raw, MAX_BODY_BYTES)
            if inflater.unconsumed_tail:
                return None
        call = fastjson.loads(raw)
    except (ValueError, zlib.error):
        return None
    return call if isinstance(call, dict) else None


def create_app(secret: str, actions_package: str = "actions", name: str = "orderdesk_actions",
               threads: Optional[int] = None) -> Sanic:
    """The Sanic app: `/health` open, `/webhook` and `/actions` behind the secret."""
    if not secret:
        raise ValueError(f"the action server needs a secret ({SECRET_ENV})")
    from rasa_sdk.executor import ActionExecutor
    from rasa_sdk.interfaces import ActionExecutionRejection, ActionNotFoundException

    app = Sanic(name, configure_logging=False)
    app.config.REQUEST_MAX_SIZE = MAX_BODY_BYTES
    executor = ActionExecutor()
    executor.register_package(actions_package)
    threads = int(os.environ.get(THREADS_ENV) or DEFAULT_THREADS) if threads is None else threads
    if threads > 0:  # 0: inline on the event loop, as rasa_sdk does (kept to measure the difference)
        around = None
        if os.environ.get(SHARED_CONNECTION_ENV) != "0":
            from orderdesk.db import one_connection as around
        run_off_the_loop(executor.actions, ThreadPoolExecutor(threads, thread_name_prefix="action"), around)
    slot_changes = os.environ.get(SLOT_CHANGES_ENV) != "0"

    @app.on_request
    async def authenticate(request: Request) -> Optional[HTTPResponse]:
        if request.path == "/health":
            return None
        if not same_secret(_bearer(request), secret):
            return response.json({"error": "unauthorized"}, status=401,
                                 headers={"WWW-Authenticate": 'Bearer realm="orderdesk-actions"'})
        return None

    @app.get("/health")
    async def health(_: Request) -> HTTPResponse:
        return response.json({"status": "ok"})

    @app.post("/webhook")
    async def webhook(request: Request) -> HTTPResponse:
        call = _action_call(request)
        if call is None or not isinstance(call.get("next_action"), str):
            return _error(400, "the body must be a JSON object naming next_action")
        if not isinstance(call.get("tracker"), dict) or not isinstance(call.get("domain") or {}, dict):
            return _error(400, "the body must carry a tracker and a domain")
        try:
            result = await executor.run(call)
        except ActionExecutionRejection as e:
            return response.json({"error": "the action rejected the call", "action_name": e.action_name},
                                 status=400)
        except ActionNotFoundException:
            return _error(404, "no such action")
        except Exception:  # noqa: BLE001 - logged (safely); the caller learns nothing about the input
            log.exception("action %s failed", call.get("next_action")[:80])
            return _error(500, "the action failed")
        if slot_changes and isinstance(result, dict):
            result["events"] = changes_only(call["next_action"], call["tracker"].get("slots"), result.get("events"))
        return response.json(result)

    @app.get("/actions")
    async def list_actions(_: Request) -> HTTPResponse:
        return response.json([{"name": k} for k in executor.actions])

    @app.exception(Exception)
    async def any_error(request: Request, exception: Exception) -> HTTPResponse:
        status = getattr(exception, "status_code", 500)
        status = status if isinstance(status, int) and 400 <= status < 600 else 500
        if status >= 500:
            log.error("request failed: %s", type(exception).__name__)
        return _error(status, "bad request" if status < 500 else "the action server failed")

    return app


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="the order desk's action server (needs ORDERDESK_ACTIONS_SECRET)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("ORDERDESK_ACTIONS_PORT", DEFAULT_PORT)))
    parser.add_argument("--host", default=os.environ.get(HOST_ENV, DEFAULT_HOST),
                        help=f"address to listen on (default {DEFAULT_HOST}; {HOST_ENV})")
    parser.add_argument("--actions", default="actions", help="the package with the actions")
    args = parser.parse_args(argv)
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logsafe.install()
    secret = os.environ.get(SECRET_ENV, "")
    if not secret:
        print(f"The action server needs a shared secret: set {SECRET_ENV} (make run generates one into "
              "var/actions-secret) and send it from endpoints.yml.", file=sys.stderr)
        return 2
    app = create_app(secret, args.actions)
    log.info("action server on http://%s:%d (actions need the shared secret)", args.host, args.port)
    app.run(host=args.host, port=args.port, access_log=False, motd=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())

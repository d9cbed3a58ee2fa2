"""JSON through ujson (a Rasa dependency) where the servers spend time on it, with the standard library's answer
whenever ujson would answer differently (installed by `orderdesk.servers.rasa` and the action server).

Py-spy on a sequential benchmark run: encoding the tracker that goes with every action call was 4% of the Rasa
server's busy time (aiohttp encodes the body with `json.dumps`), and the tracker store decodes every stored event
(it still writes them with `json.dumps`: the stored rows stay exactly Rasa's). ujson does both about 2.5 times
as fast. The text differs only in spacing (no space after `,` and `:`); the values read back are the same, big
integers, NaN, lone surrogates and float edge cases included (tests/scale/test_fastjson.py). Whatever ujson refuses goes to the standard library, so the errors stay the
standard library's. Two differences, neither possible in a tracker read from JSON: ujson writes a `Decimal` (as a
float) and a dictionary key of another type than string, number, boolean or None (as its `str()`), where the
standard library refuses both. `ORDERDESK_FAST_JSON=0` switches it off (to measure the difference).
"""
from __future__ import annotations

import json
import os
from typing import Any, Union

import ujson

ENV = "ORDERDESK_FAST_JSON"


def enabled() -> bool:
    return os.environ.get(ENV) != "0"


def dumps(value: Any) -> str:
    """`json.dumps(value)`: the same JSON values, written by ujson (no spaces) unless it refuses them."""
    if enabled():
        try:
            return ujson.dumps(value, ensure_ascii=True, escape_forward_slashes=False)
        except (TypeError, ValueError, OverflowError):
            pass  # the standard library's answer or its error
    return json.dumps(value)


def loads(text: Union[str, bytes]) -> Any:
    """`json.loads(text)`: read by ujson unless it refuses the text (then the standard library decides)."""
    if enabled():
        try:
            return ujson.loads(text)
        except (ValueError, OverflowError):
            pass  # the standard library's answer or its error
    return json.loads(text)

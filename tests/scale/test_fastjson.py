"""JSON through ujson (orderdesk.servers.fastjson) reads and writes the values the standard library does, gives the
standard library's errors, and is switched off by ORDERDESK_FAST_JSON=0."""
from __future__ import annotations

import enum
import json
import math

import pytest

from orderdesk.servers import fastjson


class Colour(str, enum.Enum):
    RED = "red"


TRACKER_LIKE = {
    "sender_id": "buyer-1/ü",
    "events": [{"event": "user", "timestamp": 1780000000.123456, "text": "cancel order 8123 😀 / \"now\"\n",
                "parse_data": {"intent": {"name": "cancel_order", "confidence": 0.9934567891234},
                               "intent_ranking": [{"name": f"i{i}", "confidence": 0.1 * i} for i in range(10)],
                               "entities": [], "metadata": {}}},
               {"event": "slot", "name": "amount", "value": -0.0},
               {"event": "action", "name": "action_listen", "policy": None, "confidence": 1.0}],
    "edges": [0.30000000000000004, 5e-324, 1.7976931348623157e308, 1e-7, 123456789.0],
    "integers": [0, -1, 2**63 - 1, -(2**63), 2**64 - 1, 2**70, -(2**70)],
    "keys": {1: "int key", True: "bool key", None: "null key", 1.5: "float key"},
    "tuple": (1, "two"), "enum": Colour.RED, "lone surrogate": "\ud800", "control": "\x00\x1f\x7f",
}


def test_written_values_read_back_as_the_standard_librarys():
    written = fastjson.dumps(TRACKER_LIKE)
    assert json.loads(written) == json.loads(json.dumps(TRACKER_LIKE))
    assert written.isascii()  # ensure_ascii, as the standard library


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_nan_and_infinity_are_written_as_the_standard_library_writes_them(value):
    assert fastjson.dumps([value]) == json.dumps([value]).replace(" ", "")


@pytest.mark.parametrize("value", [{1}, b"bytes", object(), [1, {"nested": {2}}]])
def test_what_the_standard_library_refuses_is_refused_with_its_error(value):
    with pytest.raises(TypeError) as ours:
        fastjson.dumps(value)
    with pytest.raises(TypeError) as theirs:
        json.dumps(value)
    assert str(ours.value) == str(theirs.value)


def test_the_two_documented_differences_are_written_not_refused():
    from decimal import Decimal

    for value, written in (({"price": Decimal("1.10")}, '{"price":1.1}'), ({(1, 2): "x"}, '{"(1, 2)":"x"}')):
        with pytest.raises(TypeError):
            json.dumps(value)
        assert fastjson.dumps(value) == written


@pytest.mark.parametrize("text", [
    json.dumps(TRACKER_LIKE), '{"a": [1, 2.5, "x", null, true, false]}', "0.30000000000000004", "5e-324", "1e400",
    "-1e400", "NaN", "Infinity", "123456789012345678901234567890", "-0.0", '"\\ud800"', "1E5", " [ ] ",
    b'{"bytes": "\xc3\xbc"}', '{"a": 1, "a": 2}',
])
def test_read_values_are_the_standard_librarys(text):
    ours, theirs = fastjson.loads(text), json.loads(text)
    assert repr(ours) == repr(theirs) or (isinstance(ours, float) and math.isnan(ours) and math.isnan(theirs))


def test_utf16_text_which_ujson_cannot_read_is_read_by_the_standard_library():
    body = '{"a": "b"}'.encode("utf-16")
    assert fastjson.loads(body) == json.loads(body) == {"a": "b"}


@pytest.mark.parametrize("text", ["", "{", "[1,]", "{'a': 1}", b"\xff\xfe\x00", "[1] x"])
def test_malformed_text_gets_the_standard_librarys_error(text):
    with pytest.raises(ValueError) as ours:
        fastjson.loads(text)
    with pytest.raises(ValueError) as theirs:
        json.loads(text)
    assert type(ours.value) is type(theirs.value) and str(ours.value) == str(theirs.value)


def test_switched_off_it_is_the_standard_library(monkeypatch):
    monkeypatch.setenv(fastjson.ENV, "0")
    assert fastjson.dumps({"a": [1, 2]}) == json.dumps({"a": [1, 2]}) == '{"a": [1, 2]}'
    monkeypatch.setenv(fastjson.ENV, "1")
    assert fastjson.dumps({"a": [1, 2]}) == '{"a":[1,2]}'

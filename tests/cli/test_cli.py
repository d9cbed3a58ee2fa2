"""The `orderdesk` command, as operators (and the acceptance checks) drive it.

The first half runs the installed `orderdesk` script in a subprocess with
ORDERDESK_DATABASE_URL pointing at a temp SQLite file, exactly as an operator
would. The second half calls `orderdesk.cli.main([...])` in-process (fast, and on
both SQLite and PostgreSQL). Both fix the clock at NOW with ORDERDESK_NOW, the
variable every command reads its "now" from: no test here depends on today's date.

Exit codes: 0 done; 1 refused by the policy; 2 bad input or an error.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from orderdesk import cli, db, runtime
from orderdesk.demo import SITUATIONS
from orderdesk.importer import import_payload
from orderdesk.services import OPERATOR
from support import NOW, ago, iso, order_record, payload, shipped_record

SCRIPT = Path(sys.executable).with_name("orderdesk")
COMMAND = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "orderdesk.cli"]

UNPAID, PAID, SHIPPED = "1000000001", "1000000002", "1000000003"
PLACED = datetime.fromisoformat("2026-11-01T08:00:00+00:00")  # the unpaid order closes by itself 20 days later


def sample() -> dict:
    return payload(
        order_record(UNPAID, "awaiting_payment", placed_at=PLACED),
        order_record(PAID, cancellation={"requested_at": ago(hours=5), "state": "pending", "reason": "other"}),
        shipped_record(SHIPPED, dispute={"opened_at": ago(1), "state": "open", "reason": "damaged"}),
    )


def write_json(path: Path, data) -> str:
    path.write_text(json.dumps(data, indent=2))
    return str(path)


def no_traceback(result) -> None:
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout, result.stderr


# =========================================================================== the real command

@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'cli' / 'orderdesk.db'}"


@pytest.fixture
def orderdesk(sqlite_url):
    """`orderdesk("explain", ...)` runs the installed command on the temp SQLite database."""

    def run(*args: str, url: str = sqlite_url) -> subprocess.CompletedProcess:
        env = {**os.environ, "ORDERDESK_DATABASE_URL": url, "ORDERDESK_NOW": iso(NOW)}
        return subprocess.run([*COMMAND, *args], env=env, capture_output=True, text=True, timeout=120)

    return run


@pytest.fixture
def imported(orderdesk, sqlite_url):
    """The sample loaded in-process (the import command itself has its own tests below: a process
    fewer for each test that only needs the data)."""
    services = runtime.services(sqlite_url, clock=lambda: NOW)
    with services.uow() as uow:
        import_payload(sample(), uow, NOW)
        uow.commit()
    db.dispose_engines()  # the commands run in processes of their own
    return orderdesk


def count_orders(url: str) -> int:
    engine = db.make_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(db.orders)).scalar_one()
    finally:
        engine.dispose()


def test_import_of_a_good_file_reports_what_it_loaded(orderdesk, tmp_path, sqlite_url):
    result = orderdesk("import", write_json(tmp_path / "orders.json", sample()))

    assert (result.returncode, result.stdout.strip()) == (0, "imported 2 customers and 3 orders")
    assert count_orders(sqlite_url) == 3


def test_import_of_a_bad_file_names_the_record_and_field_and_imports_nothing(orderdesk, tmp_path, sqlite_url):
    data = sample()
    data["orders"][2]["amount"] = "12,50"
    result = orderdesk("import", write_json(tmp_path / "bad.json", data))

    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"error: order {SHIPPED} (orders[2]): field 'amount' is not a decimal amount: '12,50'")
    assert result.stdout == ""
    no_traceback(result)
    assert count_orders(sqlite_url) == 0


def test_import_of_a_file_that_is_not_json_is_refused_clearly(orderdesk, tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text("{ not json")
    result = orderdesk("import", str(broken))

    assert result.returncode == 2
    assert result.stderr.startswith(f"error: {broken}: not valid JSON (line 1, column 3")
    no_traceback(result)


def test_reimporting_an_order_updates_it(imported, tmp_path, sqlite_url):
    data = sample()
    data["orders"][0]["status"] = "closed"
    data["orders"][0]["closed_reason"] = "buyer_cancelled"
    assert imported("import", write_json(tmp_path / "again.json", data)).returncode == 0

    assert count_orders(sqlite_url) == 3
    shown = json.loads(imported("explain", UNPAID, "--json").stdout)
    assert (shown["status"], shown["options"]["cancel"]["rule"]) == ("closed", "cancel.closed")


def test_explain_json_is_one_object_with_the_four_options(imported):
    result = imported("explain", PAID, "--json", "--at", iso(NOW))

    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert set(shown) == {"order_id", "status", "options"}
    assert (shown["order_id"], shown["status"]) == (PAID, "awaiting_shipment")
    assert set(shown["options"]) == {"cancel", "refund", "dispute", "return"}
    for option in shown["options"].values():
        assert set(option) == {"allowed", "how", "rule", "text", "deadline"}
        assert isinstance(option["allowed"], bool)
        assert isinstance(option["how"], str) and isinstance(option["text"], str) and option["text"]
        assert "{" not in option["text"] and "}" not in option["text"]
        assert option["deadline"] is None or option["deadline"].endswith("Z")
        if option["deadline"] is not None:
            assert datetime.fromisoformat(option["deadline"].replace("Z", "+00:00")).utcoffset() == timedelta(0)
    cancel = shown["options"]["cancel"]
    assert (cancel["allowed"], cancel["how"], cancel["rule"]) == (False, "automatic", "cancel.request_pending")
    # The buyer's words for that rule (domain.yml's utter_rule_cancel_request_pending), filled as the bot fills them.
    answer_by = ago(hours=5) + timedelta(hours=72)
    assert cancel["text"] == (
        f"Your cancellation request from {ago(hours=5):%a %-d %b, %H:%M} UTC is waiting for the seller, so the "
        f"Cancel button is gone. The seller has until {answer_by:%a %-d %b, %H:%M} UTC to answer. If they don't, the "
        "order is cancelled automatically and your refund takes 3-20 days.")
    assert cancel["deadline"] == iso(ago(hours=5) + timedelta(hours=72))
    assert shown["options"]["return"]["deadline"] is None


def test_explain_json_at_a_time_gives_the_status_as_if_swept_then(imported, sqlite_url):
    closes = PLACED + timedelta(days=20)
    before = json.loads(imported("explain", UNPAID, "--json", "--at", iso(closes - timedelta(seconds=1))).stdout)
    after = json.loads(imported("explain", UNPAID, "--json", "--at", iso(closes)).stdout)

    assert before["status"] == "awaiting_payment"
    assert before["options"]["cancel"] == {**before["options"]["cancel"], "allowed": True, "rule": "cancel.unpaid",
                                           "deadline": "2026-11-21T08:00:00Z"}
    assert after["status"] == "closed"
    assert after["options"]["cancel"]["rule"] == "cancel.closed"
    # Explaining does not sweep: the stored order is unchanged.
    later = json.loads(imported("explain", UNPAID, "--json", "--at", "2026-11-10T00:00:00+00:00").stdout)
    assert later["status"] == "awaiting_payment"


def test_explain_with_a_bad_at_is_refused_by_the_argument_parser(imported):
    result = imported("explain", UNPAID, "--json", "--at", "next week")
    assert result.returncode == 2
    assert "not an ISO 8601 date-time: 'next week'" in result.stderr
    no_traceback(result)


def test_sweep_prints_what_changed_and_a_second_sweep_changes_nothing(imported):
    at = "2026-12-01T00:00:00Z"
    first = imported("sweep", "--at", at)
    second = imported("sweep", "--at", at)

    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == [
        f"{UNPAID}: unpaid_closed (awaiting_payment -> closed, due 2026-11-21T08:00:00Z)",
        f"{PAID}: seller_silent (awaiting_shipment -> closed, due {iso(ago(hours=5) + timedelta(hours=72))})",
    ]
    assert (second.returncode, second.stdout.strip()) == (0, "nothing due")


def test_seller_reject_without_tracking_fails_with_a_clear_message(imported):
    result = imported("seller", "respond", PAID, "--reject")

    assert result.returncode == 2
    assert result.stderr.strip() == ("error: --reject needs --tracking NUMBER: a seller who rejects must give "
                                     "the tracking number")
    no_traceback(result)
    requests = json.loads(imported("requests", "--json").stdout)
    assert [r["state"] for r in requests if r["order_id"] == PAID] == ["pending"]


def test_seller_reject_with_tracking_and_approve(imported):
    rejected = imported("seller", "respond", PAID, "--reject", "--tracking", "RB123456789CN")
    assert (rejected.returncode, rejected.stdout.strip()) == (0, f"CXL-{PAID}: rejected")
    again = imported("seller", "respond", PAID, "--approve")
    assert again.returncode == 1
    assert again.stderr.strip() == f"nothing to respond to on order {PAID}: seller.already_rejected"


def test_requests_json_lists_filed_requests_newest_first(imported):
    result = imported("requests", "--json")

    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert isinstance(rows, list)
    assert [set(r) for r in rows] == [{"reference", "order_id", "kind", "state", "filed_at"}] * 2
    assert rows == [
        {"reference": f"CXL-{PAID}", "order_id": PAID, "kind": "cancellation", "state": "pending",
         "filed_at": iso(ago(hours=5))},
        {"reference": f"DSP-{SHIPPED}", "order_id": SHIPPED, "kind": "dispute", "state": "open",
         "filed_at": iso(ago(1))},
    ]


def test_requests_json_on_an_empty_database_is_an_empty_list(orderdesk):
    result = orderdesk("requests", "--json")
    assert (result.returncode, json.loads(result.stdout)) == (0, [])


def test_demo_loads_every_situation_and_reset_starts_over(imported, sqlite_url):
    result = imported("demo", "--reset")

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"demo data loaded: {len(SITUATIONS) + 1} orders")
    assert count_orders(sqlite_url) == len(SITUATIONS) + 1
    engine = db.make_engine(sqlite_url)
    try:
        with engine.connect() as conn:
            ids = set(conn.execute(select(db.orders.c.id)).scalars())
    finally:
        engine.dispose()
    assert ids == {oid for oid, _ in SITUATIONS} | {"8200000000000001"}  # the earlier import is gone
    assert json.loads(imported("explain", SITUATIONS[0][0], "--json").stdout)["status"] == "awaiting_payment"


def test_a_database_that_is_down_gets_a_clear_error_without_a_traceback(orderdesk, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    for url in ("postgresql://postgres@127.0.0.1:1/x", f"sqlite:///{blocker}/orderdesk.db"):
        result = orderdesk("explain", PAID, "--json", url=url)
        assert result.returncode == 2
        assert result.stderr.startswith(f"error: The order database at {url} is not reachable (")
        assert result.stdout == ""
        no_traceback(result)


# =========================================================================== in-process: cli.main

@pytest.fixture
def run(database_url, monkeypatch, capsys):
    """`run("explain", ...)` -> (exit code, stdout, stderr) on the test database, clock fixed at NOW."""
    monkeypatch.setenv("ORDERDESK_DATABASE_URL", database_url)
    monkeypatch.setenv("ORDERDESK_NOW", iso(NOW))

    def call(*args: str):
        capsys.readouterr()
        code = cli.main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    yield call
    db.dispose_engines()


@pytest.fixture
def loaded(run, store):
    store.load(sample())
    return run


def test_policy_prints_the_table_with_its_sources(run):
    code, out, _ = run("policy")
    assert code == 0
    assert out.startswith("| setting | value | source |")
    assert "`seller_response_hours` | 72 |" in out


def test_migrate_reports_the_latest_schema(run):
    assert run("migrate")[:2] == (0, "database is at the latest schema\n")


def test_explain_in_words_lists_the_four_answers(loaded):
    code, out, _ = loaded("explain", SHIPPED)
    assert code == 0
    assert out.startswith(f"order {SHIPPED} (USB-C cable): awaiting_delivery")
    for question in ("cancel: no", "refund: yes", "dispute: no", "return: no"):
        assert f"\n{question} (" in out
    # each answer in the buyer's words
    assert "\n  There's no Cancel button because a dispute is open on this order;" in out
    assert "{" not in out


@pytest.mark.parametrize("at", ["2026-11-21T08:00:00Z", "2026-11-21T08:00:00", "2026-11-21T11:00:00+03:00"])
def test_explain_at_accepts_other_timezones_and_a_time_without_one_as_utc(loaded, at):
    before = (datetime.fromisoformat("2026-11-21T08:00:00+00:00") - timedelta(seconds=1)).isoformat()
    assert json.loads(loaded("explain", UNPAID, "--json", "--at", before)[1])["status"] == "awaiting_payment"
    assert json.loads(loaded("explain", UNPAID, "--json", "--at", at)[1])["status"] == "closed"


@pytest.mark.parametrize("order_id, message", [
    ("9999999999", "error: There is no order 9999999999."),
    ("12-ab", "error: '12-ab' is not an order number: order numbers are 6 to 19 digits."),
])
def test_explain_of_an_unknown_or_malformed_order_is_a_clear_error(loaded, order_id, message):
    assert loaded("explain", order_id, "--json") == (2, "", message + "\n")


def test_cancel_files_once_and_a_second_click_gets_the_same_request(loaded, store):
    store.load(payload(order_record("1000000009")))
    assert loaded("cancel", "1000000009", "--reason", "wrong_product")[:2] == (0, "CXL-1000000009: pending\n")
    assert loaded("cancel", "1000000009")[:2] == (0, "CXL-1000000009: pending (already filed)\n")
    assert store.count(db.cancellation_requests, db.cancellation_requests.c.order_id == "1000000009") == 1


def test_cancel_refused_by_the_policy_exits_1_with_the_reason(loaded):
    code, out, err = loaded("cancel", SHIPPED)
    assert (code, out) == (1, "")
    assert err.startswith("refused (cancel.dispute_open): There's no Cancel button because a dispute is open")


def test_seller_approve_closes_the_order_and_a_second_answer_is_refused(loaded, store):
    assert loaded("seller", "respond", PAID, "--approve")[:2] == (0, f"CXL-{PAID}: approved\n")
    assert loaded("seller", "respond", PAID, "--approve") == (
        1, "", f"nothing to respond to on order {PAID}: seller.already_approved\n")
    assert store.count(db.refunds) == 1


def test_seller_reject_with_a_malformed_tracking_number_is_bad_input(loaded):
    code, _, err = loaded("seller", "respond", PAID, "--reject", "--tracking", "no good!")
    assert code == 2 and err == "error: 'no good!' is not a tracking number.\n"


def test_seller_respond_needs_exactly_one_of_approve_and_reject(run):
    with pytest.raises(SystemExit) as e:
        run("seller", "respond", PAID, "--approve", "--reject")
    assert e.value.code == 2


def test_dispute_with_a_partial_amount_is_filed_and_too_much_is_bad_input(loaded, store):
    store.load(payload(shipped_record("1000000009")))
    assert loaded("dispute", "1000000009", "--reason", "damaged", "--partial", "500")[0] == 2
    assert loaded("dispute", "1000000009", "--reason", "damaged", "--partial", "5", "--description", "Dented.")[:2] \
        == (0, "DSP-1000000009: open\n")
    assert store.dispute("1000000009")["amount"] == 5


def test_dispute_before_shipping_is_refused_by_the_policy(loaded):
    code, _, err = loaded("dispute", PAID, "--reason", "not_received")
    assert code == 1 and err.startswith("refused (dispute.not_shipped): ")


def test_sweep_json_lists_the_changes_with_iso_times(loaded):
    code, out, _ = loaded("sweep", "--json", "--at", "2026-11-21T08:00:00Z")
    assert code == 0
    assert json.loads(out) == [{"order_id": UNPAID, "transition": "unpaid_closed", "at": "2026-11-21T08:00:00Z",
                                "from": "awaiting_payment", "to": "closed"}]
    assert json.loads(loaded("sweep", "--json", "--at", "2026-11-21T08:00:00Z")[1]) == []


def test_requests_in_words_one_line_each(loaded):
    code, out, _ = loaded("requests")
    assert code == 0
    assert out.splitlines() == [f"CXL-{PAID}  {PAID}  cancellation  pending  {iso(ago(hours=5))}",
                                f"DSP-{SHIPPED}  {SHIPPED}  dispute  open  {iso(ago(1))}"]


def test_import_in_process_refuses_a_bad_file(run, tmp_path, store):
    data = sample()
    del data["orders"][1]["placed_at"]
    code, _, err = run("import", write_json(tmp_path / "bad.json", data))
    assert code == 2
    assert err == f"error: order {PAID} (orders[1]): field 'placed_at' is required\n"
    assert store.count(db.orders) == 0


def test_demo_if_empty_loads_once(run, store):
    code, out, _ = run("demo", "--if-empty")
    assert code == 0 and out.startswith("demo data loaded")
    assert run("demo", "--if-empty")[:2] == (
        0, "database already has orders; demo data not loaded (use --reset to start over)\n")
    assert store.count(db.orders) == len(SITUATIONS) + 1


def test_demo_reset_replaces_everything_with_the_demo_set(loaded, store, services):
    services.request_cancellation(UNPAID, "other", customer_id=OPERATOR)
    assert loaded("demo", "--reset")[0] == 0

    assert store.order(UNPAID) is None
    assert {r["id"] for r in store.rows(db.orders)} == {oid for oid, _ in SITUATIONS} | {"8200000000000001"}
    assert [r["kind"] for r in store.audit()] == ["import"] * (len(SITUATIONS) + 1)
    # The demo's times are relative to the (fixed) clock: order 4's request is 30 hours old.
    assert store.cancellation("8100000000000004")["requested_at"] == NOW - timedelta(hours=30)


def test_orderdesk_now_fixes_every_commands_clock_and_at_still_wins(imported):
    # The request filed 5 hours before NOW is still pending at NOW, settled 72 hours after it.
    expires = ago(hours=5) + timedelta(hours=72)
    at_now = json.loads(imported("explain", PAID, "--json").stdout)
    assert at_now["options"]["cancel"]["rule"] == "cancel.request_pending"
    moved = imported("explain", PAID, "--json", "--at", iso(expires))
    assert json.loads(moved.stdout)["status"] == "closed"


def test_a_bad_orderdesk_now_is_a_clear_error(sqlite_url):
    env = {**os.environ, "ORDERDESK_DATABASE_URL": sqlite_url, "ORDERDESK_NOW": "tomorrow"}
    result = subprocess.run([*COMMAND, "requests"], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip() == "error: ORDERDESK_NOW='tomorrow' is not an ISO 8601 date-time"
    no_traceback(result)


# --------------------------------------------------------------------------- link: a customer's chat ids

def test_link_sets_a_customers_chat_id_and_the_bot_then_knows_the_chat(loaded, services, store):
    assert loaded("link", "c1", "telegram", "123456789") == (
        0, "linked telegram chat 123456789 to customer c1\n", "")
    assert services.customer_for_chat("telegram", "123456789") == "c1"
    assert services.customer_for_chat("rest", "chat-c1") == "c1"  # other channels' links stay
    audit = [r for r in store.audit() if r["kind"] == "chat_link"]
    assert [json.loads(r["detail"]) for r in audit] == [
        {"action": "link", "channel": "telegram", "chat_id": "123456789", "customer_id": "c1"}]


def test_link_replaces_the_customers_chat_on_that_channel_and_moves_a_chat_from_another_customer(loaded, services):
    loaded("link", "c1", "slack", "U01")
    assert loaded("link", "c1", "slack", "U02")[:2] == (0, "linked slack chat U02 to customer c1\n")
    assert services.customer_for_chat("slack", "U01") is None
    assert loaded("link", "c2", "slack", "U02")[:2] == (
        0, "linked slack chat U02 to customer c2 (it was linked to customer c1)\n")
    assert services.customer_for_chat("slack", "U02") == "c2"


def test_unlink_removes_the_link_and_unlinking_what_is_not_linked_is_an_error(loaded, services):
    loaded("link", "c1", "telegram", "42424242")
    assert loaded("link", "c1", "telegram", "42424242", "--unlink")[:2] == (
        0, "unlinked telegram chat 42424242 from customer c1\n")
    assert services.customer_for_chat("telegram", "42424242") is None
    assert loaded("link", "c1", "telegram", "42424242", "--unlink") == (
        2, "", "error: telegram chat 42424242 is not linked to customer c1\n")


@pytest.mark.parametrize("args, message", [
    (("nobody", "telegram", "1"), "error: there is no customer 'nobody'\n"),
    (("c1", "telegram", "9" * 129), f"error: chat id '{'9' * 40}' on telegram: is longer than 128 characters or "
                                    "contains a NUL character\n"),
])
def test_link_with_an_unknown_customer_or_a_bad_chat_id_is_refused_and_changes_nothing(loaded, store, args, message):
    before = store.totals()
    assert loaded("link", *args) == (2, "", message)
    assert store.totals() == before


def test_link_on_an_unknown_channel_is_refused_by_the_argument_parser(run):
    with pytest.raises(SystemExit) as e:
        run("link", "c1", "fax", "1")
    assert e.value.code == 2


def test_link_from_the_real_command(imported, sqlite_url):
    result = imported("link", "c2", "telegram", "777")
    assert (result.returncode, result.stdout.strip()) == (0, "linked telegram chat 777 to customer c2")
    engine = db.make_engine(sqlite_url)
    try:
        with engine.connect() as conn:
            links = set(conn.execute(select(db.chat_links.c.customer_id, db.chat_links.c.channel,
                                            db.chat_links.c.chat_id)))
    finally:
        engine.dispose()
    assert ("c2", "telegram", "777") in links and ("c1", "rest", "chat-c1") in links

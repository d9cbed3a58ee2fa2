"""`orderdesk`: the operators' command line. The database comes from ORDERDESK_DATABASE_URL, the
clock from ORDERDESK_NOW when it is set (see `orderdesk.clock`); `--at` overrides both for one command.

Exit codes: 0 done; 1 refused by the policy (the answer says why); 2 bad input or an error.
One handler per subcommand (`cmd_*`), chosen by `set_defaults(func=...)`.
"""
from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from typing import Any, Optional, Sequence

from .clock import iso, parse_time
from .model import CANCELLATION_REASONS, DISPUTE_REASONS
from .services import OPERATOR  # the CLI's commands act for the marketplace, on any order


def _at(value: Optional[str]) -> Optional[datetime]:
    if value is None:
        return None
    try:
        return parse_time(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 date-time: {value!r}") from None


def _print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2)
    sys.stdout.write("\n")


def buyer_text(decision, question: str) -> str:
    """What the bot tells the buyer for this answer: the domain's responses, filled as the actions fill them."""
    from .wording import answer_text

    return answer_text(decision, question)


def decision_json(decision) -> dict[str, Any]:
    return {
        "order_id": decision.order.id,
        "status": decision.status.value,
        "options": {
            q: {"allowed": a.allowed, "how": a.how.value, "rule": a.rule, "text": buyer_text(decision, q),
                "deadline": iso(a.deadline)}
            for q, a in decision.answers().items()
        },
    }


# --------------------------------------------------------------------------- handlers

def cmd_policy(svc, args) -> int:
    from .policy_config import policy_table

    print(policy_table())
    return 0


def cmd_migrate(svc, args) -> int:
    print("database is at the latest schema")  # building the services migrated it
    return 0


def cmd_import(svc, args) -> int:
    from .importer import import_payload, load_file

    payload = load_file(args.file)
    with svc.uow() as uow:
        counts = import_payload(payload, uow, svc.clock())
        uow.commit()
    print(f"imported {counts['customers']} customers and {counts['orders']} orders")
    return 0


def cmd_explain(svc, args) -> int:
    d = svc.explain(args.order_id, at=args.at, actor="cli", customer_id=OPERATOR)
    if args.json:
        _print_json(decision_json(d))
        return 0
    print(f"order {d.order.id} ({d.order.item}): {d.status.value}")
    for q, a in d.answers().items():
        verdict = "yes" if a.allowed else "no"
        until = f", deadline {iso(a.deadline)}" if a.deadline else ""
        print(f"\n{q}: {verdict} ({a.how.value}; rule {a.rule}{until})\n  {buyer_text(d, q)}")
    return 0


def cmd_sweep(svc, args) -> int:
    changes = svc.sweep(at=args.at)
    if args.json:
        _print_json([{**c, "at": iso(c["at"])} for c in changes])
    elif not changes:
        print("nothing due")
    else:
        for c in changes:
            print(f"{c['order_id']}: {c['transition']} ({c['from']} -> {c['to']}, due {iso(c['at'])})")
    return 0


def cmd_seller_respond(svc, args) -> int:
    from .errors import InvalidInput

    if args.reject and not args.tracking:
        raise InvalidInput("--reject needs --tracking NUMBER: a seller who rejects must give the tracking number")
    r = svc.seller_respond(args.order_id, operator=OPERATOR, approve=args.approve, tracking_number=args.tracking,
                           at=args.at)
    return _outcome(r, f"nothing to respond to on order {r.decision.order.id}: {r.rule}", f"{r.reference}: {r.state}")


def cmd_requests(svc, args) -> int:
    rows = svc.requests()
    if args.json:
        _print_json([{**r, "filed_at": iso(r["filed_at"])} for r in rows])
        return 0
    for r in rows:
        print(f"{r['reference']}  {r['order_id'] or '-'}  {r['kind']}  {r['state']}  {iso(r['filed_at'])}")
    return 0


def cmd_demo(svc, args) -> int:
    from .demo import demo_payload
    from .importer import import_payload

    with svc.uow() as uow:
        if args.if_empty and uow.orders.any():
            print("database already has orders; demo data not loaded (use --reset to start over)")
            return 0
        if args.reset:
            uow.wipe()
        counts = import_payload(demo_payload(svc.clock()), uow, svc.clock(), actor="demo")
        uow.commit()
    print(f"demo data loaded: {counts['orders']} orders; chat as sender id 'demo' (email demo@example.com)")
    return 0


def _outcome(r, refused: str, done: str) -> int:
    """Exit 1 with `refused` on stderr when the policy refused, else 0 with `done`."""
    print(refused if r.refused else done, file=sys.stderr if r.refused else sys.stdout)
    return 1 if r.refused else 0


def _filed(r, question: str) -> int:
    return _outcome(r, f"refused ({r.rule}): {buyer_text(r.decision, question) if r.refused else ''}",
                    f"{r.reference}: {r.state}{'' if r.created else ' (already filed)'}")


def cmd_cancel(svc, args) -> int:
    r = svc.request_cancellation(args.order_id, args.reason, customer_id=OPERATOR, channel="cli", at=args.at)
    return _filed(r, "cancel")


def cmd_dispute(svc, args) -> int:
    r = svc.open_dispute(args.order_id, reason=args.reason, description=args.description,
                         refund="partial" if args.partial else "full", amount=args.partial, channel="cli", at=args.at,
                         customer_id=OPERATOR)
    return _filed(r, "dispute")


def cmd_link(svc, args) -> int:
    """Link (or with --unlink, unlink) a customer's chat on a channel: the bot then knows who writes."""
    from .errors import InvalidInput
    from .importer import chat_id_problem

    problem = chat_id_problem(args.channel, args.chat_id)
    if problem:
        raise InvalidInput(f"chat id {args.chat_id[:40]!r} on {args.channel}: {problem}")
    with svc.uow() as uow:
        if not uow.customers.exists(args.customer):
            raise InvalidInput(f"there is no customer {args.customer[:64]!r}")
        if args.unlink:
            if not uow.customers.unlink(args.customer, args.channel, args.chat_id):
                raise InvalidInput(f"{args.channel} chat {args.chat_id} is not linked to customer {args.customer}")
            said = f"unlinked {args.channel} chat {args.chat_id} from customer {args.customer}"
        else:
            before = uow.customers.for_chat(args.channel, args.chat_id)
            uow.customers.link(args.customer, args.channel, args.chat_id)
            moved = f" (it was linked to customer {before})" if before not in (None, args.customer) else ""
            said = f"linked {args.channel} chat {args.chat_id} to customer {args.customer}{moved}"
        uow.audit.record(at=svc.clock(), kind="chat_link", actor="cli", customer_id=args.customer,
                         channel=args.channel, chat_id=args.chat_id, action="unlink" if args.unlink else "link")
        uow.commit()
    print(said)
    return 0


# --------------------------------------------------------------------------- the parser

def parser() -> argparse.ArgumentParser:
    from .importer import CHANNELS

    p = argparse.ArgumentParser(prog="orderdesk", description="Order-support store and policy.")
    sub = p.add_subparsers(dest="command", required=True)

    def command(name: str, func, help: str, *, store: bool = True, at: bool = False, as_json: bool = False):
        s = sub.add_parser(name, help=help)
        s.set_defaults(func=func, store=store)
        if at:
            s.add_argument("--at", type=_at, help="as of this time (ISO 8601; UTC when no zone)")
        if as_json:
            s.add_argument("--json", action="store_true")
        return s

    command("import", cmd_import, "load customers and orders from a JSON file").add_argument("file")
    command("explain", cmd_explain, "what the buyer can do with an order, and until when", at=True,
            as_json=True).add_argument("order_id")
    command("sweep", cmd_sweep, "apply due time-driven transitions", at=True, as_json=True)
    seller = sub.add_parser("seller", help="act as the seller").add_subparsers(dest="seller_command", required=True)
    r = seller.add_parser("respond", help="approve or reject a cancellation request")
    r.set_defaults(func=cmd_seller_respond, store=True)
    r.add_argument("order_id")
    g = r.add_mutually_exclusive_group(required=True)
    g.add_argument("--approve", action="store_true")
    g.add_argument("--reject", action="store_true")
    r.add_argument("--tracking", help="tracking number (required with --reject)")
    r.add_argument("--at", type=_at)
    command("requests", cmd_requests, "filed requests, newest first", as_json=True)
    s = command("demo", cmd_demo, "load the demo data set")
    s.add_argument("--reset", action="store_true", help="delete everything first")
    s.add_argument("--if-empty", action="store_true", help="only when the database has no orders")
    command("policy", cmd_policy, "print the policy table with its sources", store=False)
    command("migrate", cmd_migrate, "create or upgrade the database schema")
    s = command("cancel", cmd_cancel, "file a cancellation request for an order (as the buyer)", at=True)
    s.add_argument("order_id")
    s.add_argument("--reason", default="other", choices=sorted(CANCELLATION_REASONS))
    s = command("dispute", cmd_dispute, "open a dispute (as the buyer)", at=True)
    s.add_argument("order_id")
    s.add_argument("--reason", required=True, choices=sorted(DISPUTE_REASONS))
    s.add_argument("--description", default="")
    s.add_argument("--partial", metavar="AMOUNT", help="ask for a partial refund of AMOUNT")
    s = command("link", cmd_link, "link a customer's chat on a channel (Telegram, Slack, ...) to the customer")
    s.add_argument("customer", help="the customer's id")
    s.add_argument("channel", choices=CHANNELS)
    s.add_argument("chat_id", help="the chat's id on that channel (Telegram chat id, Slack user id, ...)")
    s.add_argument("--unlink", action="store_true", help="remove the link instead")
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    from .errors import ServiceError

    args = parser().parse_args(argv)
    try:
        svc = None
        if args.store:
            from .runtime import services

            svc = services()
        return args.func(svc, args)
    except ServiceError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

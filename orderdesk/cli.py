"""`orderdesk`: the operators' command line. The database comes from ORDERDESK_DATABASE_URL.

Exit codes: 0 done; 1 refused by the policy (the answer says why); 2 bad input or an error.
"""
from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from typing import Any, Optional, Sequence

from .clock import iso as _iso
from .clock import parse_time
from .model import CANCELLATION_REASONS, DISPUTE_REASONS


def _at(value: Optional[str]) -> Optional[datetime]:
    if value is None:
        return None
    try:
        return parse_time(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 date-time: {value!r}") from None


def decision_json(decision) -> dict[str, Any]:
    return {
        "order_id": decision.order.id,
        "status": decision.status.value,
        "options": {
            q: {"allowed": a.allowed, "how": a.how.value, "rule": a.rule, "explanation": a.explanation,
                "deadline": _iso(a.deadline)}
            for q, a in decision.answers().items()
        },
    }


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="orderdesk", description="Order-support store and policy.")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("import", help="load customers and orders from a JSON file")
    s.add_argument("file")
    s = sub.add_parser("explain", help="what the buyer can do with an order, and until when")
    s.add_argument("order_id")
    s.add_argument("--json", action="store_true")
    s.add_argument("--at", type=_at, help="as of this time (ISO 8601; UTC when no zone)")
    s = sub.add_parser("sweep", help="apply due time-driven transitions")
    s.add_argument("--at", type=_at)
    s.add_argument("--json", action="store_true")
    s = sub.add_parser("seller", help="act as the seller")
    ss = s.add_subparsers(dest="seller_command", required=True)
    r = ss.add_parser("respond", help="approve or reject a cancellation request")
    r.add_argument("order_id")
    g = r.add_mutually_exclusive_group(required=True)
    g.add_argument("--approve", action="store_true")
    g.add_argument("--reject", action="store_true")
    r.add_argument("--tracking", help="tracking number (required with --reject)")
    r.add_argument("--at", type=_at)
    s = sub.add_parser("requests", help="filed requests, newest first")
    s.add_argument("--json", action="store_true")
    s = sub.add_parser("demo", help="load the demo data set")
    s.add_argument("--reset", action="store_true", help="delete everything first")
    s.add_argument("--if-empty", action="store_true", help="only when the database has no orders")
    sub.add_parser("policy", help="print the policy table with its sources")
    sub.add_parser("migrate", help="create or upgrade the database schema")
    s = sub.add_parser("cancel", help="file a cancellation request for an order (as the buyer)")
    s.add_argument("order_id")
    s.add_argument("--reason", default="other", choices=sorted(CANCELLATION_REASONS))
    s.add_argument("--at", type=_at)
    s = sub.add_parser("dispute", help="open a dispute (as the buyer)")
    s.add_argument("order_id")
    s.add_argument("--reason", required=True, choices=sorted(DISPUTE_REASONS))
    s.add_argument("--description", default="")
    s.add_argument("--partial", metavar="AMOUNT", help="ask for a partial refund of AMOUNT")
    s.add_argument("--at", type=_at)
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    from .runtime import services
    from .services import ServiceError

    args = parser().parse_args(argv)
    out = sys.stdout
    try:
        if args.command == "policy":
            from .policy_config import policy_table

            print(policy_table())
            return 0
        svc = services()
        if args.command == "migrate":
            print("database is at the latest schema")
            return 0
        if args.command == "import":
            from .importer import import_payload, load_file

            payload = load_file(args.file)
            with svc.uow() as uow:
                counts = import_payload(payload, uow, svc.clock())
                uow.commit()
            print(f"imported {counts['customers']} customers and {counts['orders']} orders")
            return 0
        if args.command == "explain":
            d = svc.explain(args.order_id, at=args.at, actor="cli")
            if args.json:
                json.dump(decision_json(d), out, indent=2)
                out.write("\n")
            else:
                print(f"order {d.order.id} ({d.order.item}): {d.status.value}")
                for q, a in d.answers().items():
                    verdict = "yes" if a.allowed else "no"
                    until = f", deadline {_iso(a.deadline)}" if a.deadline else ""
                    print(f"\n{q}: {verdict} ({a.how.value}; rule {a.rule}{until})\n  {a.explanation}")
            return 0
        if args.command == "sweep":
            changes = svc.sweep(at=args.at)
            if args.json:
                json.dump([{**c, "at": _iso(c["at"])} for c in changes], out, indent=2)
                out.write("\n")
            elif not changes:
                print("nothing due")
            else:
                for c in changes:
                    print(f"{c['order_id']}: {c['transition']} ({c['from']} -> {c['to']}, due {_iso(c['at'])})")
            return 0
        if args.command == "seller":
            if args.reject and not args.tracking:
                raise ServiceError("--reject needs --tracking NUMBER: a seller who rejects must give the tracking "
                                   "number")
            r = svc.seller_respond(args.order_id, approve=args.approve, tracking_number=args.tracking, at=args.at)
            if r.refused:
                print(f"nothing to respond to on order {r.decision.order.id}: {r.rule}", file=sys.stderr)
                return 1
            print(f"{r.reference}: {r.state}")
            return 0
        if args.command == "requests":
            rows = svc.requests()
            if args.json:
                json.dump([{**r, "filed_at": _iso(r["filed_at"])} for r in rows], out, indent=2)
                out.write("\n")
            else:
                for r in rows:
                    print(f"{r['reference']}  {r['order_id'] or '-'}  {r['kind']}  {r['state']}  {_iso(r['filed_at'])}")
            return 0
        if args.command == "demo":
            return _demo(svc, args)
        if args.command in ("cancel", "dispute"):
            if args.command == "cancel":
                r = svc.request_cancellation(args.order_id, args.reason, channel="cli", at=args.at)
                a = r.decision.cancel
            else:
                r = svc.open_dispute(args.order_id, reason=args.reason, description=args.description,
                                     refund="partial" if args.partial else "full", amount=args.partial,
                                     channel="cli", at=args.at)
                a = r.decision.dispute
            if r.refused:
                print(f"refused ({r.rule}): {a.explanation}", file=sys.stderr)
                return 1
            print(f"{r.reference}: {r.state}{'' if r.created else ' (already filed)'}")
            return 0
    except ServiceError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 2  # pragma: no cover - argparse rejects unknown commands


def _demo(svc, args) -> int:
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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

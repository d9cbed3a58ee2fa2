"""The one place the running program reads "now".

`ORDERDESK_NOW` (an ISO 8601 date-time; UTC when it has no zone) fixes the clock of every
command and of the action server, so a demo, a test or a replay runs at a chosen time. A
command's `--at` still wins over it. Unset, the clock is the system's, in UTC.
The pure core (`model`, `policy`, `policy_config`, `candidates`, `topics`) never imports this module:
it is handed `now`.
"""
from __future__ import annotations

import os
from datetime import datetime, timezone
from typing import Callable, Mapping, Optional

Clock = Callable[[], datetime]
ENV = "ORDERDESK_NOW"


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def parse_time(value: str) -> datetime:
    """An ISO 8601 date-time ('Z' allowed); one without a zone is UTC. ValueError when it is not one."""
    dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def iso(dt: Optional[datetime]) -> Optional[str]:
    """ISO 8601 in UTC with a 'Z' (None stays None): how the CLI and the import files spell times."""
    if dt is None:
        return None
    return dt.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def from_env(environ: Mapping[str, str] = os.environ) -> Clock:
    """The clock `ORDERDESK_NOW` fixes, or the system clock when it is unset or empty."""
    raw = environ.get(ENV, "").strip()
    if not raw:
        return utcnow
    try:
        fixed = parse_time(raw)
    except ValueError:
        raise ValueError(f"{ENV}={raw!r} is not an ISO 8601 date-time") from None
    return lambda: fixed

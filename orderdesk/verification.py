"""Who a stranger is, proven in the conversation: the order number and the email on it.

* **Bound to the conversation.** A check that succeeds records the customer for that conversation
  (`"<channel>:<sender id>"`) and that conversation's session only. It ends with the session (a new session
  has another `session` key) and after `IDLE` without use, whichever comes first. Nothing about it lives in a
  slot: the actions ask `verified_customer` each turn.
* **Not guessable.** Every try is kept. After `MAX_FAILURES` failed tries for one order number within
  `WINDOW` (from any conversation) or `MAX_FAILURES` failed tries in one conversation within `WINDOW`, checks
  for that order number (or in that conversation) are locked until the oldest of those failures leaves the
  window; a try while locked is not evaluated at all, even with the right email, and is not counted. The
  tries live in the order database, so every replica counts the same ones.
* **Says nothing about the order.** An order that does not exist and an email that does not match are the
  same failure (`VerificationFailed`), with the same words and the same state.

Time comes from the services' clock.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Optional

from .errors import STORE_LOST, StoreUnavailable
from .repository import STORE_ERRORS, UnitOfWork, VerificationRepository
from .services import Clock, InvalidInput, ServiceError, normalize_order_id

MAX_FAILURES = 5
WINDOW = timedelta(hours=1)
IDLE = timedelta(minutes=30)
MAX_CONVERSATION_CHARS = 200


class VerificationFailed(ServiceError):
    """The order number and email do not go together (or there is no such order: the same answer)."""

    code = "verification_failed"


class VerificationLocked(ServiceError):
    """Too many failed tries: no check until `until`."""

    code = "verification_locked"

    def __init__(self, until: datetime):
        super().__init__(f"Too many failed tries; checks are paused until {until:%Y-%m-%d %H:%M} UTC.")
        self.until = until


def conversation_key(channel: str, sender_id: str) -> str:
    return f"{channel}:{sender_id}"[:MAX_CONVERSATION_CHARS]


@dataclass(frozen=True)
class Verified:
    customer_id: str
    order_id: str


class Verification:
    """Order number + email checks with a lock-out, and the conversations they proved."""

    def __init__(self, uow: Callable[[], UnitOfWork], clock: Clock):
        self.uow = uow
        self.clock = clock

    def _run(self, fn):
        try:
            with self.uow() as uow:
                return fn(uow.verification, uow)
        except STORE_ERRORS as e:
            raise StoreUnavailable(STORE_LOST) from e

    @staticmethod
    def _locked_until(failures: list[datetime]) -> Optional[datetime]:
        """With MAX_FAILURES or more failures in the window, the time the oldest that counts leaves it."""
        if len(failures) < MAX_FAILURES:
            return None
        return failures[-MAX_FAILURES] + WINDOW

    def locked_until(self, order_id: str, conversation: str) -> Optional[datetime]:
        """When checks for this order number or in this conversation open again (None: they are open)."""
        now = self.clock()

        def work(repo: VerificationRepository, uow: UnitOfWork) -> Optional[datetime]:
            return self._lock(repo, order_id, conversation, now)

        return self._run(work)

    def _lock(self, repo: VerificationRepository, order_id: str, conversation: str,
              now: datetime) -> Optional[datetime]:
        since = now - WINDOW
        until = [self._locked_until(repo.failures_since(since, order_id=order_id)),
                 self._locked_until(repo.failures_since(since, conversation=conversation))]
        return max((u for u in until if u is not None), default=None)

    def verify(self, order_id: str, email: str, *, conversation: str, session: str) -> Verified:
        """Check `email` against the order's; on success the conversation (this session) is that customer's.

        Raises `VerificationLocked` (nothing evaluated, nothing counted) or `VerificationFailed` (counted).
        A malformed order number is `InvalidInput` and is not counted.
        """
        oid = normalize_order_id(order_id)
        conversation = conversation[:MAX_CONVERSATION_CHARS]
        now = self.clock()

        def work(repo: VerificationRepository, uow: UnitOfWork) -> Verified:
            repo.serialize(oid, conversation)
            until = self._lock(repo, oid, conversation, now)
            if until is not None:
                raise VerificationLocked(until)
            found = repo.owner_and_email(oid)
            ok = found is not None and found[1].strip().lower() == str(email or "").strip().lower() != ""
            repo.record_attempt(oid, conversation, now, ok)
            repo.forget_attempts_before(now - WINDOW)
            if ok:
                repo.save_verified(conversation, session, found[0], now)
            uow.commit()
            if not ok:
                raise VerificationFailed("That email does not match the order.")
            return Verified(found[0], oid)

        return self._run(work)

    def verified_customer(self, conversation: str, session: str) -> Optional[str]:
        """The customer this conversation proved in this session, if used within IDLE; refreshes its use."""
        conversation = conversation[:MAX_CONVERSATION_CHARS]
        now = self.clock()

        def work(repo: VerificationRepository, uow: UnitOfWork) -> Optional[str]:
            row = repo.verified(conversation)
            if row is None:
                return None
            customer, bound_session, last_seen = row
            if bound_session != session or now - last_seen >= IDLE:
                repo.forget(conversation)
                uow.commit()
                return None
            repo.touch(conversation, now)
            uow.commit()
            return customer

        return self._run(work)

    def forget(self, conversation: str) -> None:
        def work(repo: VerificationRepository, uow: UnitOfWork) -> None:
            repo.forget(conversation[:MAX_CONVERSATION_CHARS])
            uow.commit()

        self._run(work)


__all__ = ["Verification", "VerificationFailed", "VerificationLocked", "Verified", "conversation_key",
           "MAX_FAILURES", "WINDOW", "IDLE", "InvalidInput"]

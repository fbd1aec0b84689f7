"""Rate limits of the sign-in form, per address and per account name.

The account lock-out stops a guesser after a handful of wrong passwords, but anyone can spend
those tries and lock an account, and a guesser can spread guesses over many names. These
limits are kept in the server's memory (one process serves the workspace): a sliding window of
attempt times per key. Every name counts, existing or not, so a refusal tells nothing about
which accounts exist.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

#: Failed sign-ins allowed in `WINDOW_SECONDS` from one address, and for one account name;
#: past them the form answers 429 without checking anything.
PER_ADDRESS = 20
PER_ACCOUNT = 10
WINDOW_SECONDS = 300.0
#: Keys kept at most (oldest forgotten first), so a flood of names cannot fill the memory.
MAX_KEYS = 10_000

TOO_MANY = "Too many sign-in attempts. Wait a few minutes and try again, or ask an administrator."


class RateLimiter:
    """At most `limit` events per key in any window of `window` seconds."""

    def __init__(
        self, limit: int, window: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        events = self._events.pop(key, None) or deque()
        while events and events[0] <= now - self.window:
            events.popleft()
        self._events[key] = events  # most recently used last
        while len(self._events) > MAX_KEYS:
            self._events.pop(next(iter(self._events)))
        return events

    def blocked(self, key: str) -> bool:
        """Whether `key` has used its allowance in the current window."""
        with self._lock:
            return len(self._recent(key, self.clock())) >= self.limit

    def record(self, key: str) -> None:
        """Count one event for `key`."""
        with self._lock:
            now = self.clock()
            self._recent(key, now).append(now)


class LoginLimits:
    """The two limits the login form checks before looking at the password."""

    def __init__(self) -> None:
        self.by_address = RateLimiter(PER_ADDRESS, WINDOW_SECONDS)
        self.by_account = RateLimiter(PER_ACCOUNT, WINDOW_SECONDS)

    @staticmethod
    def _account(username: str) -> str:
        return username.strip().lower()[:200]

    def blocked(self, address: str, username: str) -> bool:
        """Whether this address or this account name has had too many failed attempts."""
        return self.by_address.blocked(address) or self.by_account.blocked(self._account(username))

    def failed(self, address: str, username: str) -> None:
        """Count a failed attempt against both (successful sign-ins are not counted)."""
        self.by_address.record(address)
        self.by_account.record(self._account(username))

"""The app's login check (``NEWSRAG_AUTH=user:password``), with a limit on wrong attempts.

Gradio accepts a callable for ``auth`` but counts nothing, so a password could be guessed at the
speed of the network. ``LoginGuard`` compares in constant time and, after ``max_failures`` wrong
logins in a row, refuses every login (the right one too, so guessing gains nothing) for
``lockout`` seconds, doubled after each further wrong one up to ``max_lockout``; a right login
outside a lockout starts the count again. Gradio answers a refused login with 400 "Incorrect
credentials", as for a wrong one, so a guesser learns nothing from the lockout either.
"""

from __future__ import annotations

import hmac
import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)


class LoginGuard:
    def __init__(self, user: str, password: str, max_failures: int = 5, lockout: float = 30.0,
                 max_lockout: float = 900.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._user = user.encode()
        self._password = password.encode()
        self.max_failures = max_failures
        self.lockout = lockout
        self.max_lockout = max_lockout
        self.clock = clock
        self.failures = 0
        self.locked_until = 0.0
        self._lock = threading.Lock()

    def __call__(self, user: str, password: str) -> bool:
        # both compared whatever the first gives, in constant time
        right = hmac.compare_digest(user.encode(), self._user) & hmac.compare_digest(password.encode(), self._password)
        with self._lock:
            now = self.clock()
            if now < self.locked_until:
                if not right:
                    self._fail(now)
                return False
            if right:
                self.failures = 0
                return True
            self._fail(now)
            return False

    def _fail(self, now: float) -> None:
        self.failures += 1
        if self.failures >= self.max_failures:
            wait = min(self.lockout * 2 ** (self.failures - self.max_failures), self.max_lockout)
            self.locked_until = now + wait
            log.warning("%d wrong logins in a row: logins refused for %.0f s", self.failures, wait)

"""Waiting for a real worker (another process) to do its part, from a test: poll the database or the inbox."""

import time
from collections.abc import Callable


def wait_until(condition: Callable[[], bool], timeout: float) -> bool:
    """True as soon as ``condition()``; False after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def wait_while_progressing(done: Callable[[], bool], progress: Callable[[], int], *, stall: float = 90) -> bool:
    """True as soon as ``done()``; False only when ``progress()`` has not moved for ``stall`` seconds (a worker
    on a loaded machine is slow, not stuck)."""
    last, moved_at = progress(), time.monotonic()
    while not done():
        now = progress()
        if now != last:
            last, moved_at = now, time.monotonic()
        elif time.monotonic() - moved_at > stall:
            return False
        time.sleep(0.02)
    return True

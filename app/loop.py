"""Running a command-line operation every N seconds until SIGTERM or Ctrl-C."""

import signal
import threading
from collections.abc import Callable


def repeat(seconds: float, action: Callable[[], None]) -> None:
    """Runs `action`, then again every `seconds`, until SIGTERM or Ctrl-C.

    SIGTERM lets the running action finish (its transaction commits whole) and only cuts the pause
    short; Ctrl-C interrupts at once and the open transaction rolls back.
    """
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.is_set():
            action()
            stop.wait(seconds)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)

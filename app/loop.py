"""Running a command-line operation every N seconds until SIGTERM or Ctrl-C."""

import signal
import threading
from collections.abc import Callable


def repeat(seconds: float, action: Callable[[], bool | None]) -> None:
    """Runs `action`, then again every `seconds`, until SIGTERM or Ctrl-C. An action that returns
    True (more work is waiting) is run again without the pause.

    SIGTERM lets the running action finish (its transaction commits whole) and only cuts the pause
    short; Ctrl-C interrupts at once and the open transaction rolls back.
    """
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.is_set():
            if not action():
                stop.wait(seconds)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)

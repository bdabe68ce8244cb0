"""Keep the embedded worker alive: `clinicflow run` starts it, and starts it again when it dies.

Without this a crashed worker (out of memory, a native-library crash, a kill) stopped escalations
silently while the web pages kept working. The supervisor is a thread of the web process; /healthz reads
its counters from the same process (`embedded_status`).
"""

import logging
import os
import subprocess
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

log = logging.getLogger("clinicflow.supervisor")


@dataclass
class Backoff:
    """A wait that doubles on each failure up to a ceiling, and starts small again after a success."""

    first: float = 1.0
    ceiling: float = 60.0
    current: float = field(init=False)

    def __post_init__(self) -> None:
        self.current = self.first

    def next_wait(self) -> float:
        wait = self.current
        self.current = min(self.current * 2, self.ceiling)
        return wait

    def reset(self) -> None:
        self.current = self.first


class WorkerSupervisor:
    """Run `command` as a child process; when it exits unexpectedly, log once and start it again later.

    A worker that stayed up `stable_after` seconds is considered healthy again: its next restart waits
    `first_wait` rather than the grown delay of an earlier crash loop.
    """

    def __init__(self, command: list[str], *, env: dict | None = None, first_wait: float = 1.0,
                 max_wait: float = 60.0, stable_after: float = 300.0):
        self.command = command
        self.env = env
        self.backoff = Backoff(first=first_wait, ceiling=max_wait)
        self.stable_after = stable_after
        self.restarts = 0
        self.last_restart_at: datetime | None = None
        self.last_exit_code: int | None = None
        self.process: subprocess.Popen | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()  # between spawning a child and stop() terminating it
        self._thread = threading.Thread(target=self._supervise, name="worker-supervisor", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 30) -> None:
        """Stop the worker the way SIGTERM does (it finishes its current job), then the supervisor."""
        with self._lock:
            self._stopping.set()
            process = self.process
            if process and process.poll() is None:
                process.terminate()
        if process:
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                log.warning("the worker did not stop within %s s; killing it", timeout)
                process.kill()
                process.wait()
        self._thread.join(timeout=5)

    def status(self) -> dict:
        return {"supervised": True, "restarts": self.restarts,
                "last_restart_at": self.last_restart_at.isoformat() if self.last_restart_at else None,
                "last_exit_code": self.last_exit_code}

    def _spawn(self) -> subprocess.Popen | None:
        with self._lock:
            if self._stopping.is_set():
                return None
            # Its own process group: Ctrl+C in the terminal reaches only `clinicflow run`, which stops the
            # worker itself, so a clean shutdown never looks like a crash to be restarted.
            group = {"process_group": 0} if os.name == "posix" else {}
            self.process = subprocess.Popen(self.command, env=self.env, **group)
            return self.process

    def _supervise(self) -> None:
        while (process := self._spawn()) is not None:
            started = time.monotonic()
            code = process.wait()
            if self._stopping.is_set():
                return
            if time.monotonic() - started >= self.stable_after:
                self.backoff.reset()
            wait = self.backoff.next_wait()
            self.restarts += 1
            self.last_exit_code = code
            log.error("the worker (pid %s) exited unexpectedly with code %s; restart %s in %.0f s",
                      process.pid, code, self.restarts, wait)
            if self._stopping.wait(wait):
                return
            self.last_restart_at = datetime.now(UTC)


_embedded: WorkerSupervisor | None = None


def supervise_worker(command: list[str], **options) -> WorkerSupervisor:
    """Start the supervised worker of this process; /healthz reports on it."""
    global _embedded
    _embedded = WorkerSupervisor(command, **options)
    _embedded.start()
    return _embedded


def embedded_status() -> dict | None:
    """The supervisor's counters when this process runs the embedded worker, else None."""
    return _embedded.status() if _embedded else None

"""``almia serve --workers N``: N processes share one port (SO_REUSEPORT, Linux spreads the
connections), watched by this supervisor.

The supervisor forwards SIGTERM/SIGINT to every process (each drains and shuts down
gracefully, see :mod:`bot.ops.server`), restarts a process that died unexpectedly, and
gives up when processes keep dying right after start (a configuration error). The
processes write their metrics under one directory that ``/metrics`` adds up.
"""

from __future__ import annotations

import logging
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

log = logging.getLogger(__name__)
_EARLY_DEATH_SECONDS = 10.0
_EARLY_DEATHS_ALLOWED = 3
_POLL_SECONDS = 0.2


@dataclass
class _Worker:
    index: int
    process: subprocess.Popen[bytes]
    started: float = field(default_factory=time.monotonic)


class Supervisor:
    """Starts, watches and stops the worker processes of one replica."""

    def __init__(self, command: Sequence[str], workers: int, environ: Mapping[str, str], *,
                 stop_seconds: float) -> None:
        self._command = list(command)
        self._count = workers
        self._environ = dict(environ)
        self._stop_seconds = stop_seconds
        self._workers: dict[int, _Worker] = {}
        self._stopping: signal.Signals | None = None
        self._early_deaths = 0
        self._metrics_dir = Path(tempfile.mkdtemp(prefix="almia-metrics-"))

    def run(self) -> int:
        """Serve until a signal; the exit status is 0 after a requested stop."""
        previous = {number: signal.signal(number, self._on_signal)
                    for number in (signal.SIGTERM, signal.SIGINT)}
        try:
            for index in range(self._count):
                self._spawn(index)
            status = self._watch()
            self._stop_all()
            return status
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)
            shutil.rmtree(self._metrics_dir, ignore_errors=True)

    def _on_signal(self, number: int, _frame: FrameType | None) -> None:
        self._stopping = signal.Signals(number)

    def _spawn(self, index: int) -> None:
        environ = {**self._environ, "ALMIA_OPS__METRICS_DIR": str(self._metrics_dir),
                   "PROMETHEUS_MULTIPROC_DIR": str(self._metrics_dir)}
        process = subprocess.Popen(self._command, env=environ)  # noqa: S603 (our own command)
        self._workers[index] = _Worker(index, process)
        log.info("worker %d started (pid %d)", index, process.pid)

    def _watch(self) -> int:
        while self._stopping is None:
            time.sleep(_POLL_SECONDS)
            for index, worker in list(self._workers.items()):
                code = worker.process.poll()
                if code is None or self._stopping is not None:
                    continue
                self._forget(worker)
                lived = time.monotonic() - worker.started
                log.error("worker %d (pid %d) exited with status %s after %.0f s",
                          index, worker.process.pid, code, lived)
                self._early_deaths = self._early_deaths + 1 if lived < _EARLY_DEATH_SECONDS else 0
                if self._early_deaths >= _EARLY_DEATHS_ALLOWED:
                    log.error("workers keep dying at start: giving up (see the errors above)")
                    self._stopping = signal.SIGTERM
                    return 1
                self._spawn(index)
        return 0

    def _stop_all(self) -> None:
        sent = self._stopping or signal.SIGTERM
        for worker in self._workers.values():
            if worker.process.poll() is None:
                worker.process.send_signal(sent)
        deadline = time.monotonic() + self._stop_seconds
        for worker in self._workers.values():
            try:
                worker.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.error("worker %d did not stop in time: killed", worker.index)
                worker.process.kill()
                worker.process.wait()
            self._forget(worker)

    def _forget(self, worker: _Worker) -> None:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(  # type: ignore[no-untyped-call]
            worker.process.pid, str(self._metrics_dir))


def child_command(host: str, port: int) -> list[str]:
    """The command line of one worker process."""
    return [sys.executable, "-m", "bot", "serve", "--host", host, "--port", str(port),
            "--workers", "1", "--reuse-port"]

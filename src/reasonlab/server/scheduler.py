"""A bounded queue of requests, served round-robin across clients by a few worker threads.

`submit` admits a job or raises `QueueFull` (the server answers 429 with Retry-After). Waiting
jobs sit in one FIFO per client; workers take the oldest job of the next client in turn, so a
client that sends many requests cannot starve one that sends few. A cancelled job leaves the
queue at once.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from ..context import Cancelled


class QueueFull(Exception):
    """No room for another request; retry_after is a whole number of seconds to wait."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"server busy; retry after {retry_after}s")
        self.retry_after = retry_after


@dataclass
class Job:
    id: str
    client: str
    fn: Callable[[], Any]
    cancel: threading.Event
    future: Future = field(default_factory=Future)
    submitted: float = field(default_factory=time.perf_counter)
    started: float | None = None


@dataclass
class QueueStats:
    admitted: int = 0
    rejected: int = 0
    completed: int = 0
    failed: int = 0
    cancelled: int = 0


class FairQueue:
    """Round-robin across clients, at most `capacity` jobs admitted, `workers` running at once."""

    def __init__(self, capacity: int = 32, workers: int = 4) -> None:
        self.capacity = capacity
        self.workers = workers
        self.stats = QueueStats()
        self._waiting: OrderedDict[str, deque[Job]] = OrderedDict()
        self._running: set[str] = set()
        self._cv = threading.Condition()
        self._closed = False
        self._service_s = 1.0  # moving average of a job's run time, for Retry-After
        self._threads = [threading.Thread(target=self._work, name=f"reasonlab-worker-{i}", daemon=True)
                         for i in range(workers)]
        for t in self._threads:
            t.start()

    # -- admission ----------------------------------------------------------------------
    def waiting(self) -> int:
        return sum(len(q) for q in self._waiting.values())

    def submit(self, job_id: str, client: str, fn: Callable[[], Any],
               cancel: threading.Event | None = None) -> Job:
        job = Job(job_id, client, fn, cancel or threading.Event())
        with self._cv:
            if self._closed:
                raise QueueFull(5)
            if self.waiting() + len(self._running) >= self.capacity:
                self.stats.rejected += 1
                raise QueueFull(self.retry_after())
            self._waiting.setdefault(client, deque()).append(job)
            self.stats.admitted += 1
            self._cv.notify()
        return job

    def retry_after(self) -> int:
        """Seconds until a slot is likely free: queued work spread over the workers."""
        backlog = self.waiting() + len(self._running)
        return max(1, math.ceil(self._service_s * backlog / self.workers))

    def cancel(self, job: Job) -> None:
        """Cancel a job: it leaves the queue if waiting; a running one stops at its next model call."""
        job.cancel.set()
        with self._cv:
            q = self._waiting.get(job.client)
            if q is not None and job in q:
                q.remove(job)
                if not q:
                    del self._waiting[job.client]
                self.stats.cancelled += 1
                job.future.set_exception(Cancelled("cancelled while queued"))

    # -- workers ------------------------------------------------------------------------
    def _next(self) -> Job | None:
        """Oldest job of the client whose turn it is (caller holds the lock)."""
        if not self._waiting:
            return None
        client, q = next(iter(self._waiting.items()))
        job = q.popleft()
        del self._waiting[client]
        if q:
            self._waiting[client] = q  # back of the line
        return job

    def _work(self) -> None:
        while True:
            with self._cv:
                job = self._next()
                while job is None:
                    if self._closed:
                        return
                    self._cv.wait()
                    job = self._next()
                self._running.add(job.id)
            job.started = time.perf_counter()
            try:
                if job.cancel.is_set():
                    raise Cancelled("cancelled before it started")
                result = job.fn()
            except Cancelled as e:
                self._finish(job, "cancelled")
                job.future.set_exception(e)
            except BaseException as e:  # noqa: BLE001 - handed to the waiting request
                self._finish(job, "failed")
                job.future.set_exception(e)
            else:
                self._finish(job, "completed")
                job.future.set_result(result)

    def _finish(self, job: Job, outcome: str) -> None:
        elapsed = time.perf_counter() - (job.started or job.submitted)
        with self._cv:
            self._running.discard(job.id)
            setattr(self.stats, outcome, getattr(self.stats, outcome) + 1)
            self._service_s = 0.8 * self._service_s + 0.2 * elapsed
            self._cv.notify()

    def snapshot(self) -> dict[str, Any]:
        with self._cv:
            return {"capacity": self.capacity, "workers": self.workers, "waiting": self.waiting(),
                    "running": len(self._running), "clients_waiting": len(self._waiting),
                    **vars(self.stats)}

    def close(self) -> None:
        with self._cv:
            self._closed = True
            for q in self._waiting.values():
                for job in q:
                    job.cancel.set()
                    job.future.set_exception(Cancelled("server shutting down"))
            self._waiting.clear()
            self._cv.notify_all()

"""The client side of a sweep: start or reach a Dask cluster, hand out the runs, gather events.

    sweep = Sweep(runs, data, sweep_id="sw-...", workers=2)      # or scheduler="tcp://host:8786"
    for event in sweep.events():   # SweepStarted, RunStarted, RunEpoch, RunEnded, SweepFinished
        ...
    sweep.stop()                   # from a signal handler or another thread: every run stops

Without a scheduler the sweep starts a `distributed.LocalCluster` of worker
processes with one thread each. The data is sent to every worker once
(`Client.scatter` with ``broadcast``), each run is one task (`task.run_on_worker`),
and what the runs report arrives on a `distributed.Queue` that `events` drains.
A worker that dies takes only its run with it: the scheduler starts the run
again elsewhere (its record is reset), or, after too many deaths, it ends as
"failed: worker lost".
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import re
import signal
import sys
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

from nntui.engine.dataset import MnistData
from nntui.engine.errors import NntuiError
from nntui.engine.signals import TERMINATING_SIGNALS
from nntui.sweep.events import (
    RunCheckpoint,
    RunEnded,
    RunEpoch,
    RunStarted,
    SweepEvent,
    SweepFinished,
    SweepStarted,
)
from nntui.sweep.grid import RunSpec
from nntui.sweep.payload import pack
from nntui.sweep.recorder import SweepRecorder
from nntui.sweep.stack_task import run_stack_on_worker, stacks
from nntui.sweep.task import run_on_worker

CONNECT_SECONDS = 5.0  # to reach a --scheduler; the whole error must come within 10 s
WORKERS_SECONDS = 3.0  # for a reached scheduler to show at least one worker
STOP_GRACE_SECONDS = 5.0  # after a stop, how long running runs have to send their last words
POLL_SECONDS = 0.1  # how often the client asks for news; a stop is seen at once regardless
LOST_SECONDS = 30.0  # no answer from the scheduler for this long: it is gone
# Dask's own messages (a worker restarting, a closed stream at shutdown, "Failed to
# reconnect to scheduler") are not the user's: nntui says what happened in its own words,
# and `--verbose` shows Dask's.
QUIET_LEVEL = logging.CRITICAL + 10
SCHEDULER_LOST = "scheduler lost"  # a run's note: "failed: scheduler lost"
# Dask's housekeeping, turned down for a cluster whose tasks each run for minutes. On a
# 2-core machine the defaults cost a tenth of the CPU the runs should have: every worker
# samples its own stack each 10 ms for a profile no one reads here, and the nannies
# (which live in this process) ask each worker's memory ten times a second.
QUIET_DASK = {
    "distributed.worker.profile.enabled": False,
    "distributed.worker.memory.monitor-interval": "1s",
    "distributed.admin.system-monitor.interval": "2s",
    "distributed.admin.tick.interval": "500ms",
}

_ADDRESS = re.compile(r"^(tcp|tls|ws|wss)://[^\s/:]+:\d{1,5}$")


class ClusterError(NntuiError):
    """The Dask cluster could not be reached or started."""


def default_workers() -> int:
    """One worker per core."""
    return max(1, os.cpu_count() or 1)


def check_scheduler_address(text: str) -> str:
    """``tcp://HOST:PORT`` (``HOST:PORT`` means tcp); `ClusterError` otherwise."""
    address = text.strip()
    if "://" not in address:
        address = f"tcp://{address}"
    if not _ADDRESS.match(address):
        raise ClusterError(
            f"--scheduler must be an address like tcp://127.0.0.1:8786, got {text!r}"
        )
    return address


class Sweep:
    """Runs ``runs`` on a cluster and yields what happens, as `nntui.sweep.events`."""

    def __init__(
        self,
        runs: Sequence[RunSpec],
        data: MnistData,
        *,
        sweep_id: str,
        workers: int | None = None,
        scheduler: str | None = None,
        recorder: SweepRecorder | None = None,
        stack: int = 1,
        verbose: bool = False,
        resume: dict[int, dict[str, Any]] | None = None,
    ) -> None:
        self.runs = tuple(runs)
        self.stack = stack  # runs trained together per task (`stack_task`); 1: one per task
        # Run index -> where a continued run left off (`task.run_on_worker`'s ``resume``).
        self.resume = dict(resume or {})
        self.verbose = verbose  # Dask's own log lines on stderr (`--verbose`)
        self.data = data
        self.sweep_id = sweep_id
        self.workers = workers if workers is not None else default_workers()
        self.scheduler = check_scheduler_address(scheduler) if scheduler else None
        self.recorder = recorder
        self._stop = threading.Event()
        self.timings: dict[str, float] = {}  # seconds: "connect", "data", "close"
        self._client: Any = None
        self._cluster: Any = None
        self.lost = False  # the scheduler went away mid-sweep
        self.failure: str | None = None  # why `fail` stopped the sweep, if it did

    def stop(self) -> None:
        """Stop every run after its current mini-batch. Safe from any thread or a signal handler."""
        self._stop.set()

    def fail(self, reason: str) -> None:
        """Stop every run as `stop` does, but keep them as failed with ``reason``.

        For a cause that is not the user's wish: the data the runs read was found
        damaged (`nntui.data.cache.on_damage`). `--continue` takes them up again.
        """
        self.failure = reason
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def connect(self) -> None:
        """Start the local cluster or reach the scheduler; `ClusterError` if that fails.

        `events` does this itself; calling it first (say, in a thread while the
        data loads) overlaps the two. Closed by `events` when it ends, or by `close`.
        """
        if self._client is None:
            t0 = time.perf_counter()
            self._client, self._cluster = self._connect()
            self.timings["connect"] = time.perf_counter() - t0

    def close(self) -> None:
        """Close the client and a local cluster (idempotent)."""
        if self._client is not None:
            t1 = time.perf_counter()
            _close(self._client, self._cluster)
            self._client = self._cluster = None
            self.timings["close"] = time.perf_counter() - t1

    def events(self) -> Iterator[SweepEvent]:
        """Connect, run everything, and yield events until every run has ended; then close."""
        try:
            self.connect()
            yield from self._run(self._client)
        finally:
            self.close()
            if self.recorder is not None:
                self.recorder.close()

    def _connect(self) -> tuple[Any, Any]:
        from distributed import Client, LocalCluster

        _quiet_dask_logs(self.verbose)
        if self.scheduler is not None:
            try:
                client = Client(self.scheduler, timeout=CONNECT_SECONDS, set_as_default=False)
            except (OSError, TimeoutError) as exc:
                raise ClusterError(
                    f"cannot reach the Dask scheduler at {self.scheduler} "
                    f"within {CONNECT_SECONDS:g} s ({_one_line(exc)})"
                ) from None
            try:
                client.wait_for_workers(1, timeout=WORKERS_SECONDS)
            except (OSError, TimeoutError):
                client.close()
                raise ClusterError(
                    f"the Dask scheduler at {self.scheduler} has no workers; "
                    "start some with 'dask worker " + self.scheduler + "'"
                ) from None
            self.workers = sum(
                w.get("nthreads", 1) for w in client.scheduler_info()["workers"].values()
            )
            return client, None
        # The worker processes must ignore Ctrl-C and the terminal's hang-up: a terminal
        # sends SIGINT (and, closed, SIGHUP; ctrl+\ SIGQUIT) to the whole foreground
        # process group, as `timeout` sends its signal, and
        # it is the client's job to stop the runs in order, not the workers' to die
        # mid-run, each with a traceback. An ignored signal is the one state a spawned
        # process inherits (a handler or a blocked mask is not: they measured unblocked),
        # and Python, started with it ignored, leaves it so. So both are ignored while they
        # start: one sent then is lost, but ``nntui sweep`` on a terminal reads what the
        # terminal did meanwhile and acts on it once they are up (`nntui.cli.sweep`). So are
        # the other signals that would end a process (`nntui.engine.signals`), which this
        # process answers by stopping in order; multiprocessing's resource tracker, started
        # here too, would otherwise die of them and be relaunched, with tracebacks.
        # SIGTERM, which reaches this process alone, is blocked instead: one sent during
        # the start waits, and is handled once it is over.
        _ensure_resource_tracker()
        import dask

        # Set for the whole process, not only around the constructor: the scheduler and
        # nannies live here and some of them read their settings later.
        dask.config.set(QUIET_DASK)
        in_main = threading.current_thread() is threading.main_thread()
        inherited = tuple(s for s in TERMINATING_SIGNALS if s != signal.SIGTERM)
        if in_main:
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
            before = {s: signal.signal(s, signal.SIG_IGN) for s in inherited}
        try:
            cluster = LocalCluster(
                n_workers=self.workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                # The scheduler's HTTP server (metrics, health) on any free port, with no
                # dashboard: two sweeps at once, or another Dask, must not clash on 8787.
                scheduler_kwargs={"dashboard": False, "dashboard_address": ":0"},
                silence_logs=logging.WARNING if self.verbose else QUIET_LEVEL,
                env={"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"},
            )
        except Exception as exc:
            raise ClusterError(f"cannot start the local Dask workers ({_one_line(exc)})") from None
        finally:
            if in_main:
                for signum, handler in before.items():
                    signal.signal(signum, handler)
                signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
        client = Client(cluster, set_as_default=False)
        return client, cluster

    def _run(self, client: Any) -> Iterator[SweepEvent]:
        from distributed import Event, Queue

        start = time.perf_counter()
        t = time.perf_counter()
        payload = pack(
            self.data,
            max((r.config.train_size for r in self.runs), default=1),
            sorted({r.config.eval_on for r in self.runs}),
            local=self.scheduler is None,
        )
        try:
            data_future = client.scatter(payload, broadcast=True, hash=False)
        except Exception as exc:
            raise ClusterError(f"cannot send the data to the workers ({_one_line(exc)})") from None
        self.timings["data"] = time.perf_counter() - t
        token = uuid.uuid4().hex[:12]
        channel, stop_name = f"nntui-events-{token}", f"nntui-stop-{token}"
        queue = Queue(channel, client=client)
        stop_event = Event(stop_name, client=client)
        try:
            yield from self._follow(client, data_future, token, queue, stop_event, start)
        finally:
            # However this ends (done, an error, the caller gone): the runs still going stop,
            # and the stop watchers' pending waits are answered, which the scheduler would
            # otherwise cancel at close with a logged traceback.
            with contextlib.suppress(Exception):
                stop_event.set()

    def _follow(
        self, client: Any, data_future: Any, token: str, queue: Any, stop_event: Any, start: float
    ) -> Iterator[SweepEvent]:
        """Submit every run and yield what happens until each has ended."""
        channel, stop_name = queue.name, stop_event.name
        futures: dict[int, Any] = {}
        # With --stack K, runs of one shape share a task; their indices share its future.
        # A continued run goes on from its own saved state, so it trains alone.
        fresh = [r for r in self.runs if r.index not in self.resume]
        groups = stacks(fresh, self.stack, self.workers)
        groups += [[r] for r in self.runs if r.index in self.resume]
        for order, group in enumerate(groups):
            spec = group[0]
            key = f"nntui-run-{self.sweep_id}-{spec.index}-{token}"
            if len(group) == 1:
                args: tuple[Any, ...] = (run_on_worker, spec.index, spec.config.to_dict())
                kwargs: dict[str, Any] = {"resume": self.resume.get(spec.index)}
            else:
                kwargs = {}
                indices = [s.index for s in group]
                configs = [s.config.to_dict() for s in group]
                args = (run_stack_on_worker, indices, configs)
            future = client.submit(
                *args,
                data_future,
                channel,
                stop_name,
                **kwargs,
                key=key,
                pure=False,
                priority=-order,  # the table's order; with stacks, the largest first
            )
            for s in group:
                futures[s.index] = future
        yield self._emit(
            SweepStarted(self.sweep_id, self.runs, self.workers, client.scheduler.address)
        )

        attempts: dict[int, str] = {}  # run -> the attempt whose messages count
        tries: dict[int, int] = {}
        ended: set[int] = set()
        deadline: float | None = None

        last_heard = time.perf_counter()

        def drain() -> Iterator[SweepEvent]:
            nonlocal last_heard
            try:
                messages = queue.get(batch=True)
            except Exception:  # the scheduler is gone, or not answering for now
                return
            last_heard = time.perf_counter()
            for msg in messages:
                i = msg.get("run")
                if i in ended or i not in futures:
                    continue
                if msg["kind"] == "start":
                    attempts[i] = msg["attempt"]
                    tries[i] = tries.get(i, 0) + 1
                    yield self._emit(RunStarted(i, msg.get("worker", ""), tries[i], None))
                elif msg["kind"] == "epoch" and attempts.get(i) == msg["attempt"]:
                    yield self._emit(RunEpoch(i, msg["record"]))
                elif msg["kind"] == "model" and attempts.get(i) == msg["attempt"]:
                    yield self._emit(
                        RunCheckpoint(
                            i,
                            msg["epoch"],
                            tuple(msg["weights"]),
                            tuple(msg["biases"]),
                            _shuffle_state(msg.get("shuffle_state")),
                        )
                    )

        while len(ended) < len(futures):
            if self._stop.is_set() and deadline is None:
                deadline = time.perf_counter() + STOP_GRACE_SECONDS
                with contextlib.suppress(Exception):
                    stop_event.set()
                # Runs not yet started are taken off the queue; running ones stop themselves.
                unstarted = [i for i in futures if i not in attempts and i not in ended]
                client.cancel([futures[i] for i in unstarted])
                for i in unstarted:
                    ended.add(i)
                    yield self._emit(RunEnded(i, "stopped", "stopped before it started"))
            yield from drain()
            finished = [i for i, f in futures.items() if i not in ended and f.done()]
            if finished:
                yield from drain()  # the last epoch's message may have come with the result
            for i in finished:
                ended.add(i)
                yield self._emit(self._outcome(i, futures[i], attempts))
            if not self._stop.is_set() and (
                _client_gone(client) or time.perf_counter() - last_heard > LOST_SECONDS
            ):
                # Not a stop: the runs still going failed, and `--continue` takes them up.
                self.lost = True
                for i in futures:
                    if i not in ended:
                        ended.add(i)
                        yield self._emit(RunEnded(i, "failed", SCHEDULER_LOST))
            elif deadline is not None and time.perf_counter() > deadline:
                for i in futures:
                    if i not in ended:
                        ended.add(i)
                        yield self._emit(
                            RunEnded(i, "stopped", "its worker did not answer the stop")
                        )
            elif len(ended) < len(futures):
                self._stop.wait(POLL_SECONDS)
        status = (
            "failed"
            if self.failure is not None or self.lost
            else "stopped"
            if self._stop.is_set()
            else "completed"
        )
        yield self._emit(SweepFinished(status, time.perf_counter() - start))

    def _outcome(self, i: int, future: Any, attempts: dict[int, str]) -> RunEnded:
        from distributed import KilledWorker

        if future.status == "cancelled":
            if not self._stop.is_set():  # nobody here cancelled it: the scheduler went away
                self.lost = True
                return RunEnded(i, "failed", SCHEDULER_LOST)
            return RunEnded(i, "stopped", "stopped before it started")
        if future.status == "error":
            exc = future.exception()
            if isinstance(exc, KilledWorker):
                return RunEnded(i, "failed", "worker lost")
            return RunEnded(i, "failed", _one_line(exc))
        result = future.result()
        if "runs" in result:  # a stack's task: every run's outcome
            result = result["runs"][i]
        return RunEnded(
            i,
            result["status"],
            result["message"],
            tuple(result["weights"]),
            tuple(result["biases"]),
            result.get("shuffle_state"),
        )

    def _emit(self, event: SweepEvent) -> SweepEvent:
        """Record the event in the runs store (on the client) before anyone sees it."""
        if self.failure is not None and isinstance(event, RunEnded) and event.status == "stopped":
            event = dataclasses.replace(event, status="failed", message=self.failure)
        if self.recorder is not None:
            name = self.recorder.handle(event)
            if isinstance(event, RunStarted) and name is not None:
                return RunStarted(event.index, event.worker, event.attempt, name)
        return event


def _ensure_resource_tracker() -> None:
    """Start multiprocessing's resource tracker with a real stderr to hand to it.

    The tracker passes ``sys.stderr.fileno()`` to the process it spawns; inside the
    dashboard, Textual's stand-in for stderr has no file descriptor, and the
    worker processes then fail to start.
    """
    from multiprocessing import resource_tracker

    try:
        usable = sys.stderr is not None and sys.stderr.fileno() >= 0
    except (AttributeError, OSError, ValueError):
        usable = False
    if usable:
        return
    previous = sys.stderr
    with open(os.devnull, "w") as devnull:
        sys.stderr = devnull
        try:
            resource_tracker.ensure_running()
        finally:
            sys.stderr = previous


def _quiet_dask_logs(verbose: bool) -> None:
    """Dask's loggers at WARNING with `verbose`, else silent.

    Dask's config gives some loggers levels of their own ("distributed.client" at
    WARNING), so setting the parent's level alone lets their errors through.
    """
    level = logging.WARNING if verbose else QUIET_LEVEL
    names = [n for n in logging.root.manager.loggerDict if n.split(".")[0] == "distributed"]
    for name in ["distributed", *names]:
        logging.getLogger(name).setLevel(level)


def _shuffle_state(text: Any) -> dict[str, Any] | None:
    """The shuffles' state a run sent as JSON text (msgpack cannot carry its integers)."""
    try:
        state = json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return None
    return state if isinstance(state, dict) else None


def _client_gone(client: Any) -> bool:
    """True once the client gave up on its scheduler (it tries to reconnect for a while)."""
    return getattr(client, "status", "running") in ("closing", "closed", "failed")


def _close(client: Any, cluster: Any) -> None:
    with contextlib.suppress(Exception):
        client.close(timeout=5)
    if cluster is not None:
        with contextlib.suppress(Exception):
            cluster.close(timeout=5)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:200]

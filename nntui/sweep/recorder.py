"""Keeps every run of a sweep in the local runs store as its events arrive on the client.

The workers may share no filesystem with the client, so the client writes the
store: a run's folder when it starts, a record per epoch, the network when it
ends. A run whose worker died and that starts again has its record reset. A run
that never started is kept as "stopped" with no epochs, so that
``nntui sweep --continue`` knows what is missing and nothing is left "running".
"""

from __future__ import annotations

from collections.abc import Callable

from nntui.engine.errors import ModelFileError
from nntui.engine.network import Network
from nntui.store.runs import Run, RunStore
from nntui.sweep.events import (
    RunCheckpoint,
    RunEnded,
    RunEpoch,
    RunStarted,
    SweepEvent,
    SweepStarted,
)
from nntui.sweep.grid import RunSpec


class SweepRecorder:
    """Call `handle` with every `SweepEvent`, in order, on the client."""

    def __init__(
        self,
        sweep: str,
        store: RunStore,
        warn: Callable[[str], object],
        continued: dict[int, Run] | None = None,
    ) -> None:
        """``continued``: run index -> the stored run it continues (`RunStore.reopen`)."""
        self.sweep = sweep
        self.store = store
        self._warn = warn
        self._specs: dict[int, RunSpec] = {}
        self.runs: dict[int, Run] = dict(continued or {})
        # The epochs a continued run had before this sweep: a retry goes back to them.
        self._base = {i: list(run.history) for i, run in self.runs.items()}
        self._started: set[int] = set()
        self._broken = False

    def handle(self, event: SweepEvent) -> str | None:
        """Record ``event``; return the name of the run it concerns, if there is one."""
        if self._broken:
            return None
        try:
            return self._handle(event)
        except ModelFileError as exc:
            self._warn(f"stopped keeping this sweep's runs: {exc}")
            self._broken = True
            return None

    def _handle(self, event: SweepEvent) -> str | None:
        if isinstance(event, SweepStarted):
            self._specs = {spec.index: spec for spec in event.runs}
            return None
        if isinstance(event, RunStarted):
            run = self.runs.get(event.index)
            if run is None:
                run = self._create(event.index)
            elif event.index not in self._started:  # a stored run, continued
                run.note = None
                run.save(status="running")
            else:  # its worker died: the run starts again from where this sweep took it up
                run.history[:] = self._base.get(event.index, [])
                run.note = f"attempt {event.attempt}: the first worker was lost"
                run.save(status="running")
            self._started.add(event.index)
            return run.name
        if isinstance(event, RunCheckpoint):
            run = self.runs.get(event.index)
            if run is not None and run.history and run.history[-1]["epoch"] == event.epoch:
                run.save(
                    Network.from_parameters(event.weights, event.biases),
                    shuffle_state=event.shuffle_state,
                )
                return run.name
            return None
        if isinstance(event, RunEpoch):
            run = self.runs.get(event.index)
            if run is not None:
                run.record_epoch(event.record)
                return run.name
            return None
        if isinstance(event, RunEnded):
            run = self.runs.get(event.index) or self._create(event.index)
            network = None
            if event.weights is not None and event.biases is not None:
                network = Network.from_parameters(event.weights, event.biases)
            if event.status == "failed":
                run.note = f"failed: {event.message}"
            elif event.status == "stopped" and not run.history:
                run.note = event.message
            run.finish(event.status, network, event.shuffle_state)
            return run.name
        return None

    def take_up(self, continued: dict[int, Run]) -> None:
        """Record runs ``index -> stored run`` into those runs (``--continue``), not new ones."""
        self.runs.update(continued)
        self._base.update({i: list(run.history) for i, run in continued.items()})

    def _create(self, index: int) -> Run:
        spec = self._specs[index]
        run = self.store.create(spec.config, spec.seed, sweep=self.sweep)
        self.runs[index] = run
        return run

    def close(self) -> None:
        """Whatever has not ended (the client is going away) is kept as "stopped"."""
        for run in self.runs.values():
            if run.status == "running":
                try:
                    run.finish("stopped")
                except ModelFileError as exc:  # pragma: no cover - the disk went away
                    self._warn(str(exc))

"""The recorder: keeps a training run in the runs store as its events go by."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from nntui.engine.config import TrainConfig
from nntui.engine.errors import ModelFileError
from nntui.engine.events import EpochDone, TrainingEvent, TrainingFinished
from nntui.engine.network import Network
from nntui.store.metrics import epoch_record
from nntui.store.runs import Run, RunStore


class RunRecorder:
    """Keeps one training run in the store as its events go by (used by the CLI and the app).

    Call `handle` with every event from `Trainer.run`, from the thread that runs
    it: between two events the network does not change, so it is saved whole.
    A runs directory that cannot be written stops the keeping, never the
    training; ``warn`` is told why, in one line.
    """

    def __init__(
        self,
        config: TrainConfig,
        seed: int,
        *,
        warn: Callable[[str], object],
        history: Sequence[dict[str, Any]] = (),
        resumed_from: str | None = None,
        store: RunStore | None = None,
    ) -> None:
        self._warn = warn
        self.run: Run | None = None
        try:
            self.run = (store or RunStore(warn=warn)).create(
                config, seed, history=history, resumed_from=resumed_from
            )
        except ModelFileError as exc:
            warn(f"this run will not be kept: {exc}")

    def handle(
        self,
        event: TrainingEvent,
        network: Network,
        shuffle_state: dict[str, Any] | None = None,
    ) -> None:
        """Keep ``event``; ``shuffle_state`` (`Trainer.shuffle_state`) is saved with the model."""
        if self.run is None:
            return
        try:
            if isinstance(event, EpochDone):
                self.run.record_epoch(epoch_record(event), network, shuffle_state)
            elif isinstance(event, TrainingFinished):
                if event.status == "failed":
                    self.run.note = event.message  # why, as "failed: <note>" in the runs list
                self.run.finish(event.status, network, shuffle_state)
        except ModelFileError as exc:
            self._warn(f"stopped keeping this run: {exc}")
            self.run = None

    def close(
        self,
        network: Network,
        status: str = "stopped",
        shuffle_state: dict[str, Any] | None = None,
    ) -> None:
        """Mark the run finished if no `TrainingFinished` did (an error ended the loop)."""
        if self.run is None or self.run.status != "running":
            return
        try:
            self.run.finish(status, network, shuffle_state)
        except ModelFileError as exc:
            self._warn(f"stopped keeping this run: {exc}")
            self.run = None

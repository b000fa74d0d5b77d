"""The dashboard's network across runs: Start trains it further, Reset replaces it.

A `Session` holds the data, the network with the seed that
made it, the epochs it has trained so far and the gallery's sample of
evaluation images; it builds a `Trainer` for each run. Views read the network
through `Session.snapshot`, the copy the screen last heard of (from the training
worker's messages), never through ``network``, which the training thread changes
while a run goes on. The epochs are the trainer's own history (one list), as far
as the screen has heard of them. Plain Python and NumPy: no Textual here.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np

from nntui.data import cache
from nntui.engine.analysis import RANDOM_GUESS, darkness_baseline
from nntui.engine.config import MAX_TRAIN_SIZE, TrainConfig, check_memory, format_sizes
from nntui.engine.dataset import MnistData
from nntui.engine.errors import ConfigError
from nntui.engine.events import EpochDone
from nntui.engine.layers import held_back_digits, stuck_output_hint
from nntui.engine.network import Network
from nntui.engine.snapshot import NetworkSnapshot
from nntui.engine.svm import BOOK_SVM_CORRECT
from nntui.engine.training import Trainer, check_fits, new_seed, seeded_network
from nntui.store.metrics import epoch_record
from nntui.store.model_file import SavedModel
from nntui.store.recorder import RunRecorder

GALLERY_SIZE = 8  # evaluation digits in the dashboard's gallery
PROGRESS_IMAGES = 1_000  # ask the trainer for a progress event about this often (100 batches of 10)
COST_POINTS = 50  # ...or more often on a small training set, for a cost curve of ~50 points


def progress_every(mini_batch_size: int, train_size: int) -> int:
    """Mini-batches between two progress events: `PROGRESS_IMAGES` images, or fewer."""
    images = min(PROGRESS_IMAGES, train_size / COST_POINTS)
    return max(1, round(images / mini_batch_size))


class Session:
    """One network and its history. ``sample_seed`` fixes the gallery's digits (for tests)."""

    def __init__(
        self, data: MnistData, *, sample_seed: int | None = None, gallery_size: int = GALLERY_SIZE
    ) -> None:
        self.data = data
        self.network: Network | None = None
        self.seed: int | None = None
        # The network as the screen last heard of it: views show this, never a later one.
        self.snapshot: NetworkSnapshot | None = None
        self.diverged = False
        self.trainer: Trainer | None = None  # the current or last run's, or the next one
        self.earlier_epochs = 0  # epochs of a loaded model, trained before this session
        self.earlier_records: list[dict] = []  # their per-epoch records, as the runs keep them
        self.loaded_from: str | None = None  # the run or file a loaded model came from
        # Seconds per 50,000 training images, by backprop: the speed comparison.
        self.epoch_seconds: dict[str, list[float]] = {}
        self._baselines: dict[str, dict[str, float]] = {}
        self.eval_on = "test"
        self.sample_indices: tuple[int, ...] = ()
        self._gallery_size = gallery_size
        self._rng = np.random.default_rng(sample_seed)
        self._hinted: tuple[int, ...] = ()  # the stuck outputs named in this run's log
        self._heard = 0  # epochs of `trainer.history` the screen has heard of (`record`)

    @property
    def history(self) -> list[EpochDone]:
        """This session's epochs, as far as the screen has heard of them.

        The trainer's own history (it runs ahead: epoch ends reach the screen in
        batches), cut at the last one `record`-ed.
        """
        return [] if self.trainer is None else self.trainer.history[: self._heard]

    def heard(self, snapshot: NetworkSnapshot | None) -> None:
        """The screen heard of this copy of the network (a step, a pause, the end)."""
        if snapshot is not None:
            self.snapshot = snapshot

    @property
    def epochs_done(self) -> int:
        return self.earlier_epochs + len(self.history)

    def reset(self, config: TrainConfig) -> None:
        """A new random network (from ``config.seed``, or a fresh seed), untrained."""
        self._check_train_size(config)
        check_memory(config)
        self.seed = config.seed if config.seed is not None else new_seed()
        self.network = seeded_network(config, self.seed)
        self._heard = 0
        self.earlier_epochs, self.earlier_records, self.loaded_from = 0, [], None
        self.diverged = False
        if config.eval_on != self.eval_on or not self.sample_indices:
            self.eval_on = config.eval_on
            self.new_sample()
        self.trainer = self._trainer(config)

    def why_not_start(self, config: TrainConfig) -> str | None:
        """Why a run with ``config`` cannot continue this network, or None if it can."""
        try:
            self._check_train_size(config)
            check_memory(config)  # refuses what will not fit; the CLI also warns above 1 GB
        except ConfigError as exc:
            return str(exc)
        if self.network is None or self.epochs_done == 0:
            return None  # a fresh network is made to measure
        if self.diverged:
            return "the network diverged (its weights are NaN): press r for a new one"
        if tuple(self.network.sizes) != config.sizes:
            sizes = format_sizes(self.network.sizes)
            return (
                f"the trained network has layers {sizes}: press r for a new one with the new sizes"
            )
        if config.seed is not None and config.seed != self.seed:
            return (
                f"the trained network came from seed {self.seed}: "
                f"press r for one from seed {config.seed}"
            )
        return None

    def start(self, config: TrainConfig) -> Trainer:
        """The trainer for the next run: it continues the network, or starts a fresh one."""
        reason = self.why_not_start(config)
        if reason is not None:
            raise ConfigError(reason)
        fresh = self.network is None or self.epochs_done == 0
        if fresh and (
            self.network is None
            or tuple(self.network.sizes) != config.sizes
            or (config.seed is not None and config.seed != self.seed)
        ):
            self.reset(config)
        if config.eval_on != self.eval_on:
            self.eval_on = config.eval_on
            self.new_sample()
        # Carry the shuffles on from where the last trainer left them, rather than
        # replaying every earlier epoch's shuffle (slow after many epochs).
        carried = self.trainer.shuffle_state if self.trainer and self.epochs_done else None
        self.trainer = self._trainer(config, carried)
        self._hinted = ()
        return self.trainer

    def record(
        self, event: EpochDone, config: TrainConfig, snapshot: NetworkSnapshot | None = None
    ) -> None:
        """Keep a finished epoch of a run with ``config``, and how long its training took.

        ``event`` is the trainer's next epoch in its history; ``snapshot``, the network
        as that epoch left it, if known.
        """
        self._heard += 1
        self.heard(snapshot)
        if config.train_size:
            per_book_epoch = event.train_seconds * MAX_TRAIN_SIZE / config.train_size
            self.epoch_seconds.setdefault(config.backprop, []).append(per_book_epoch)

    def recorder(self, trainer: Trainer, warn: Callable[[str], None]) -> Callable[[], RunRecorder]:
        """How this run is kept in the runs directory, with the epochs this network had before.

        Returns what makes the `RunRecorder`: call it on the training thread. It
        creates the run's files and syncs them to disk, which took more than
        half a second on a slow disk: on the UI thread, a run's first frame and
        any key pressed meanwhile waited for it. ``warn`` is told, from the
        training thread, when the run cannot be kept.
        """
        # Read now, on the UI thread: `record` adds to the history as epochs end.
        earlier = [*self.earlier_records, *(epoch_record(e) for e in self.history)]
        return partial(
            RunRecorder,
            trainer.config,
            trainer.seed,
            warn=warn,
            history=earlier,
            resumed_from=self.loaded_from,
        )

    def seconds_per_epoch(self) -> dict[str, float]:
        """The median seconds per 50,000-image epoch measured so far, by backprop."""
        # statistics, not NumPy: a few dozen floats, once an epoch, on the UI thread; the
        # first np.median imports numpy.ma (40 ms) in the middle of the first epoch.
        return {name: statistics.median(times) for name, times in self.epoch_seconds.items()}

    def load(self, saved: SavedModel, origin: str) -> TrainConfig:
        """Continue a saved model or look inside it: it becomes the session's network.

        Returns the config to show in the inputs (the saved one, if the file has it).
        """
        config = (saved.config or TrainConfig()).with_changes(sizes=tuple(saved.network.sizes))
        config = config.with_changes(train_size=min(config.train_size, len(self.data.training)))
        self._check_train_size(config)
        self.network = saved.network
        self.seed = saved.seed if saved.seed is not None else new_seed()
        self._heard = 0
        self.earlier_epochs = saved.epochs_done
        self.earlier_records = list(saved.history)
        self.loaded_from = origin
        self.diverged = not saved.network.is_finite()
        if config.eval_on != self.eval_on or not self.sample_indices:
            self.eval_on = config.eval_on
            self.new_sample()
        state = saved.shuffle_state if saved.seed is not None else None
        self.trainer = self._trainer(config, state)
        return config

    @property
    def earlier_curve(self) -> tuple[tuple[int, float], ...]:
        """(epoch, accuracy) of a loaded model's earlier epochs, for the accuracy chart."""
        return tuple(
            (int(r["epoch"]), r["correct"] / r["total"])
            for r in self.earlier_records
            if r.get("total")
        )

    def new_hint(self, event: EpochDone) -> str | None:
        """The hint naming stuck output neurons after ``event``, once per run and set of digits.

        None when no output is stuck, or the hint for these digits was given before.
        """
        labels = self.data.split(self.eval_on).labels
        digits = tuple(held_back_digits(event.predictions, labels))
        hint = stuck_output_hint(digits, event.epoch)
        repeated = hint is not None and digits == self._hinted
        self._hinted = digits if hint else ()
        return None if repeated else hint

    def svm_baseline(self, correct: int | None) -> dict[str, float]:
        """The SVM's fraction right for the chart: ``correct`` of 10,000, or the book's figure.

        Empty unless evaluating on the test set, on which the SVM was scored.
        """
        if self.eval_on != "test":
            return {}
        name = "SVM" if correct is not None else "SVM (book, not reproduced)"
        return {name: (correct or BOOK_SVM_CORRECT) / 10_000}

    @property
    def baselines_known(self) -> bool:
        """Whether `baselines` has them already (else it reads all the training images)."""
        return self.eval_on in self._baselines

    def baselines(self) -> dict[str, float]:
        """The chapter's simple classifiers on the evaluation set, as fractions correct."""
        if self.eval_on not in self._baselines:
            evaluation = self.data.split(self.eval_on)
            darkness = darkness_baseline(self.data.training, evaluation) / max(1, len(evaluation))
            self._baselines[self.eval_on] = {"random guess": RANDOM_GUESS, "darkness": darkness}
        return self._baselines[self.eval_on]

    def new_sample(self) -> tuple[int, ...]:
        """Pick new random gallery digits from the evaluation set."""
        n = len(self.data.split(self.eval_on))
        picks = self._rng.choice(n, size=min(self._gallery_size, n), replace=False)
        self.sample_indices = tuple(int(i) for i in picks)
        return self.sample_indices

    def _trainer(self, config: TrainConfig, shuffle_state: dict | None = None) -> Trainer:
        """A trainer continuing this network and its history; the views see it as it starts."""
        trainer = self._new_trainer(
            self.data,
            config,
            network=self.network,
            seed=self.seed,
            progress_every=progress_every(config.mini_batch_size, config.train_size),
            first_epoch=self.epochs_done + 1,
            history=self.history,
            shuffle_state=shuffle_state,
        )
        self.snapshot = trainer.snapshot  # published before any run: nothing to run ahead of
        # Mapped from a cache whose background checksum fails: the run stops, kept as failed.
        cache.on_damage(self.data, lambda _reason: trainer.fail(cache.DAMAGED))
        return trainer

    def _new_trainer(self, *args: Any, **kwargs: Any) -> Trainer:
        """The trainer itself (the book's watch makes one that takes its order from the book)."""
        return Trainer(*args, **kwargs)

    def _check_train_size(self, config: TrainConfig) -> None:
        check_fits(config, self.data)

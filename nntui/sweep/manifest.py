"""A sweep's list of runs, kept beside the runs store so that the sweep can be continued.

``<runs dir>/.sweeps/<id>.json`` holds every run's config (seed included) in
order. The runs themselves are ordinary runs in the store with a ``sweep``
field; a run of the manifest that has no completed or diverged run in the store
is "missing", and ``nntui sweep --continue ID`` (or ``c`` on the dashboard's sweep
screen) runs just those: `runs_to_continue`, then `drop_unfinished` once they are
about to run.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from nntui.engine.config import TrainConfig, format_sizes
from nntui.engine.errors import ConfigError, ModelFileError
from nntui.store.atomic import atomic_write
from nntui.store.index import Filter
from nntui.store.model_file import SavedModel, load_model
from nntui.store.runs import RunInfo, RunStore
from nntui.sweep.grid import RunSpec

FORMAT = "nntui-sweep"
VERSION = 1
FOLDER = ".sweeps"  # hidden, so `RunStore.list` passes over it
DONE = ("completed", "diverged")  # a run that ended by itself; any other is run again


@dataclass(frozen=True)
class Manifest:
    sweep: str
    created: str
    runs: tuple[RunSpec, ...]
    preset: str | None = None


def new_sweep_id(now: datetime | None = None) -> str:
    """``sw-20261201-221005``: sortable, and short enough to type."""
    now = now or datetime.now()
    return f"sw-{now.strftime('%Y%m%d-%H%M%S')}"


def _folder(store: RunStore) -> Path:
    return store.root / FOLDER


def save_manifest(store: RunStore, manifest: Manifest) -> None:
    """Write the manifest atomically; `ModelFileError` if the runs directory is not writable."""
    doc = {
        "format": FORMAT,
        "version": VERSION,
        "sweep": manifest.sweep,
        "created": manifest.created,
        "preset": manifest.preset,
        "runs": [spec.config.to_dict() for spec in manifest.runs],
    }
    try:
        _folder(store).mkdir(parents=True, exist_ok=True)
        with atomic_write(_folder(store) / f"{manifest.sweep}.json", "w") as f:
            f.write(json.dumps(doc, indent=1) + "\n")
    except OSError as exc:
        raise ModelFileError(
            f"{store.root}: cannot keep the sweep ({exc.strerror or exc})"
        ) from None


def sweep_ids(store: RunStore) -> list[str]:
    """Every sweep with a manifest, oldest first."""
    folder = _folder(store)
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob("*.json"))


def resolve_sweep(store: RunStore, text: str) -> str:
    """The sweep id ``text`` names (an id or a unique start of one); `ConfigError` if none."""
    ids = sweep_ids(store)
    ids += [s for s in store.sweeps() if s not in ids]
    if text in ids:
        return text
    matches = [i for i in ids if i.startswith(text)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise ConfigError(f"no sweep {text!r} in {store.root} (see 'nntui runs')")
    raise ConfigError(
        f"{len(matches)} sweeps start with {text!r} ({', '.join(matches[:3])}); say which"
    )


def load_manifest(store: RunStore, sweep: str) -> Manifest:
    """Read a sweep's manifest; `ModelFileError` (one line) if it is missing or damaged."""
    path = _folder(store) / f"{sweep}.json"
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelFileError(f"sweep {sweep}: no list of its runs in {path.parent}") from None
    except (OSError, ValueError) as exc:
        raise ModelFileError(f"sweep {sweep}: cannot read {path} ({exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or doc.get("version") != VERSION:
        raise ModelFileError(f"{path}: not an nntui sweep")
    try:
        runs = tuple(
            RunSpec(i, TrainConfig.from_dict(c).validate()) for i, c in enumerate(doc["runs"])
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(f"{path}: the runs are invalid ({exc})") from None
    if any(spec.config.seed is None for spec in runs):
        raise ModelFileError(f"{path}: a run has no seed")
    return Manifest(doc["sweep"], str(doc.get("created", "")), runs, doc.get("preset"))


def stored_runs(store: RunStore, sweep: str) -> list[RunInfo]:
    """The runs in the store that belong to ``sweep``, oldest first (their epochs read lazily)."""
    return store.query([Filter("sweep", "=", sweep)])


def missing_runs(manifest: Manifest, stored: list[RunInfo]) -> list[RunSpec]:
    """The runs of the manifest that did not end by themselves (never started, stopped, failed)."""
    done = {(r.config.with_changes(seed=None), r.seed) for r in stored if r.status in DONE}
    return [
        spec
        for spec in manifest.runs
        if (spec.config.with_changes(seed=None), spec.seed) not in done
    ]


def runs_to_continue(store: RunStore, sweep: str) -> tuple[Manifest, list[RunSpec]]:
    """The sweep's manifest and its missing runs, numbered from 0 as a new `Sweep` wants them.

    `ModelFileError` (one line) if the manifest is missing or damaged; `ConfigError` if
    some of its runs are still running, since running them again would delete their records.
    """
    manifest = load_manifest(store, sweep)
    stored = stored_runs(store, sweep)
    _refuse_running(sweep, stored, "continue it once it has stopped")
    missing = missing_runs(manifest, stored)
    return manifest, [RunSpec(i, spec.config) for i, spec in enumerate(missing)]


def unfinished_sweeps(store: RunStore) -> list[str]:
    """The sweeps with a manifest that have runs to continue, oldest first."""
    found = []
    for sweep in sweep_ids(store):
        try:
            manifest = load_manifest(store, sweep)
        except ModelFileError:  # nothing to continue from
            continue
        if missing_runs(manifest, stored_runs(store, sweep)):
            found.append(sweep)
    return found


def delete_sweep(store: RunStore, sweep: str) -> int:
    """Delete the sweep's runs and its manifest; return how many runs were deleted.

    `ConfigError` if some of its runs are still running (in another process): the
    sweep would go on writing runs that no longer exist and end with nothing kept.
    """
    runs = stored_runs(store, sweep)
    _refuse_running(sweep, runs, "stop it first (Ctrl-C where it runs), then delete it")
    n = store.delete(runs)  # folders and index rows together
    (_folder(store) / f"{sweep}.json").unlink(missing_ok=True)
    return n


def drop_unfinished(store: RunStore, sweep: str, specs: list[RunSpec]) -> None:
    """Before running ``specs`` again, delete their stopped or failed records (no duplicates)."""
    keys = {(s.config.with_changes(seed=None), s.seed) for s in specs}
    # As before the index: a record that cannot be removed is left, not a reason to stop.
    with contextlib.suppress(ModelFileError):
        store.delete(
            r
            for r in stored_runs(store, sweep)
            if r.status not in DONE and (r.config.with_changes(seed=None), r.seed) in keys
        )


@dataclass(frozen=True)
class Continuation:
    """How one missing run of a sweep is taken up by ``--continue``."""

    spec: RunSpec  # numbered as the new `Sweep` wants it
    stored: RunInfo | None  # its stopped or failed record, if there is one
    saved: SavedModel | None  # the model it continues from; None: from epoch 1

    @property
    def epochs_done(self) -> int:
        return self.saved.epochs_done if self.saved is not None else 0

    def describe(self) -> str:
        """One line for the output: which run continues from where, or why it starts again."""
        c = self.spec.config
        what = f"{format_sizes(c.sizes, '-')} eta {c.eta:g} m {c.mini_batch_size} seed {c.seed}"
        if self.saved is not None:
            return f"{what}: continues from epoch {self.epochs_done} (run {self.stored.name})"  # type: ignore[union-attr]
        if self.stored is not None and self.stored.epochs_done:
            return (
                f"{what}: starts again from epoch 1 (its {self.stored.epochs_done} epochs "
                f"had no saved model{'' if self.stored.model_path is None else ' to use'})"
            )
        return f"{what}: starts from epoch 1"

    def resume(self) -> dict[str, Any] | None:
        """What `nntui.sweep.task.run_on_worker` takes as ``resume``."""
        if self.saved is None:
            return None
        net = self.saved.network
        return {
            "weights": list(net.weights),
            "biases": list(net.biases),
            "shuffle_state": self.saved.shuffle_state,
            "epochs_done": self.saved.epochs_done,
        }


def plan_continue(
    store: RunStore, sweep: str, specs: list[RunSpec], restart: bool = False
) -> list[Continuation]:
    """For each missing run: its stored record and the model it continues from.

    A stopped or failed run continues from its last saved model (its epochs so
    far and the state of its shuffles) unless `restart`, or unless no model
    reached the client; the run's epochs still to train are those its config
    asks for, less the ones done.
    """
    stored = {
        (r.config.with_changes(seed=None), r.seed): r
        for r in stored_runs(store, sweep)
        if r.status not in DONE
    }  # the latest record of each run wins
    plans = []
    for spec in specs:
        info = stored.get((spec.config.with_changes(seed=None), spec.seed))
        saved = None
        if info is not None and not restart and info.model_path is not None:
            with contextlib.suppress(ModelFileError):
                saved = load_model(info.model_path)
            if saved is not None and not 0 < saved.epochs_done < spec.config.epochs:
                saved = None
        config = spec.config
        if saved is not None:
            config = config.with_changes(epochs=spec.config.epochs - saved.epochs_done)
        plans.append(Continuation(RunSpec(spec.index, config), info, saved))
    return plans


def _refuse_running(sweep: str, stored: Sequence[RunInfo], then: str) -> None:
    """`ConfigError` if some of the sweep's runs are still running (in another process)."""
    running = sum(1 for r in stored if r.status == "running")
    if running:
        raise ConfigError(
            f"sweep {sweep} is still running ({running} runs, in another process); {then}"
        )

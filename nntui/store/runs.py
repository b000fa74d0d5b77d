"""The runs store: every training run kept on disk, to list, compare, look inside and continue.

A run is a folder in the runs directory, named by its start time and a short
config, such as ``2026-11-25T13-20-05_784-30-10_eta3``. It holds

* ``run.json``: the config, seed, status, start and finish times, and the
  epoch the saved model has reached,
* ``epochs.jsonl``: one record per epoch (`nntui.store.metrics.epoch_record`),
  one JSON line each, appended as epochs end, and
* ``model.npz``: the network as `nntui.store.model_file.save_model` writes it.

So that an epoch costs the same at epoch 2,000 as at epoch 2, nothing is
rewritten whole every epoch: the record is appended, and the model (with
``run.json``) is written atomically at the first epoch, then at most every
`MODEL_EVERY` seconds, and always when the run ends. A crash loses at most
those seconds of the model, never the record; resuming such a run says how
far back its model is. The runs directory is ``$NNTUI_RUNS`` if set, else
``$XDG_DATA_HOME/nntui/runs`` or ``~/.local/share/nntui/runs``.

    store = RunStore()
    run = store.create(config, seed)
    for each epoch: run.record_epoch(epoch_record(event), trainer.network)
    run.finish("completed", trainer.network)
    store.list()                      # -> [RunInfo, ...], oldest first
    store.get("2026-11-25T13")        # a name, a unique prefix of one, or a folder
"""

from __future__ import annotations

import builtins
import contextlib
import errno
import json
import operator
import os
import shutil
import socket
import sqlite3
import stat
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nntui.engine.config import TrainConfig, format_sizes
from nntui.engine.errors import ConfigError, ModelFileError, reason
from nntui.store.atomic import atomic_write
from nntui.store.index import COLUMNS, Filter, NotARun, Row, RunIndex, Selection, stamp

if TYPE_CHECKING:  # NumPy is imported only to read or write a model: listing runs needs none
    from nntui.engine.network import Network
    from nntui.store.model_file import SavedModel

ENV_VAR = "NNTUI_RUNS"
RUN_FILE = "run.json"
MODEL_FILE = "model.npz"
HISTORY_FILE = "epochs.jsonl"
FORMAT = "nntui-run"
VERSION = 2  # 1 kept the epochs in run.json; such runs are still read
MODEL_EVERY = 30.0  # seconds between two writes of a running run's model
# "running" is written while training goes on; "failed" when a sweep's run could not finish
# (its worker died); the others are TrainingFinished's statuses.
STATUSES = ("running", "completed", "stopped", "diverged", "failed")
INTERRUPTED = "interrupted"  # shown for a "running" run whose process is gone (it crashed)


def runs_dir() -> Path:
    """The runs directory (it may not exist yet)."""
    env = os.environ.get(ENV_VAR, "")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME", "")
    # The XDG spec says to ignore a relative XDG_DATA_HOME.
    base = Path(xdg) if os.path.isabs(xdg) else Path.home() / ".local" / "share"
    return base / "nntui" / "runs"


def short_config(config: TrainConfig) -> str:
    """The config part of a run's name: layer sizes and eta, e.g. ``784-30-10_eta3``."""
    return f"{format_sizes(config.sizes, '-')}_eta{config.eta:g}"


@dataclass(frozen=True)
class Summary:
    """What a run's history comes to, kept in the index so that listing needs no epochs."""

    epochs_done: int = 0
    best_epoch: int | None = None
    best_correct: int | None = None
    best_total: int | None = None
    last_accuracy: float | None = None

    @classmethod
    def of(cls, history: Sequence[dict[str, Any]]) -> Summary:
        if not history:
            return cls()
        best = max(history, key=lambda r: r["correct"])  # the earliest of equals
        last = history[-1]
        return cls(
            int(last["epoch"]),
            int(best["epoch"]),
            int(best["correct"]),
            int(best["total"]),
            last["correct"] / last["total"] if last["total"] else None,
        )

    @property
    def best_accuracy(self) -> float | None:
        if self.best_correct is None or not self.best_total:
            return None
        return self.best_correct / self.best_total


@dataclass(frozen=True)
class RunInfo:
    """What `RunStore.list` and `RunStore.get` know about one stored run.

    A run listed from the index carries its `Summary` only; its epochs are read
    from ``epochs.jsonl`` the first time `history` (or `best`, `curve`) is asked for.
    """

    name: str  # the folder's name
    path: Path  # the folder
    config: TrainConfig
    seed: int | None
    status: str  # one of STATUSES, or INTERRUPTED
    started: str  # ISO 8601 with the UTC offset
    finished: str | None
    resumed_from: str | None = None  # the run or model file this one continued
    model_epoch: int | None = None  # the epoch model.npz holds (None: as the history)
    sweep: str | None = None  # the id of the `nntui sweep` this run belongs to
    note: str | None = None  # why a run failed, e.g. "worker lost"
    summary: Summary = field(default_factory=Summary, repr=False, compare=False)
    # The epochs, once read; a version 1 run has them in run.json and always carries them.
    loaded: tuple[dict[str, Any], ...] | None = field(default=None, repr=False, compare=False)

    @property
    def history(self) -> tuple[dict[str, Any], ...]:
        """The epoch_record dicts, in order (read on first use; empty if no longer readable)."""
        if self.loaded is None:
            try:
                records = _read_history(self.path / HISTORY_FILE, self.name)
            except ModelFileError:
                records = []
            valid = tuple(records) if all(_is_record(r) for r in records) else ()
            object.__setattr__(self, "loaded", valid)
            return valid
        return self.loaded

    @property
    def epochs_done(self) -> int:
        return self.summary.epochs_done

    @property
    def best(self) -> dict[str, Any] | None:
        """The epoch record with the most correct answers (the earliest of equals)."""
        return max(self.history, key=lambda r: r["correct"], default=None)

    @property
    def best_accuracy(self) -> float | None:
        """The best epoch's fraction correct, 0..1, or None before the first epoch."""
        return self.summary.best_accuracy

    @property
    def last_accuracy(self) -> float | None:
        """The last epoch's fraction correct, 0..1, or None before the first epoch."""
        return self.summary.last_accuracy

    @property
    def curve(self) -> tuple[tuple[int, float], ...]:
        """(epoch, accuracy) for each epoch, for an accuracy chart."""
        return tuple(
            (r["epoch"], r["correct"] / r["total"] if r["total"] else 0.0) for r in self.history
        )

    @property
    def model_path(self) -> Path | None:
        """The saved network, or None if the run has not finished an epoch yet."""
        path = self.path / MODEL_FILE
        return path if path.is_file() else None

    @property
    def label(self) -> str:
        """A short legend for charts: ``784-30-10 eta 3 m 10``."""
        c = self.config
        return f"{format_sizes(c.sizes, '-')} eta {c.eta:g} m {c.mini_batch_size}"

    def load(self) -> SavedModel:
        """Load the run's network (to look inside or train further); `ModelFileError` if none."""
        path = self.model_path
        if path is None:
            raise ModelFileError(f"run {self.name} has no saved model yet")
        from nntui.store.model_file import load_model

        return load_model(path)


class Run:
    """A run being recorded. Create one with `RunStore.create`; use it from one thread."""

    def __init__(
        self,
        path: Path,
        config: TrainConfig,
        seed: int | None,
        started: datetime,
        history: Sequence[dict[str, Any]] = (),
        resumed_from: str | None = None,
        sweep: str | None = None,
        model_every: float = MODEL_EVERY,
    ) -> None:
        self.path = path
        self.name = path.name
        self.model_every = model_every
        self.model_epoch: int | None = None
        self._model_written = -float("inf")  # time.monotonic() of the last model write
        self._recorded = 0  # records in epochs.jsonl
        self.config = config
        self.seed = seed
        self.started = started.isoformat(timespec="microseconds")  # orders runs of one second
        self.finished: str | None = None
        self.status = "running"
        self.history: list[dict[str, Any]] = [dict(r) for r in history]
        self.resumed_from = resumed_from
        self.sweep = sweep
        self.note: str | None = None
        self.index: RunIndex | None = None  # set by RunStore.create: the row to keep up to date

    @property
    def model_path(self) -> Path:
        return self.path / MODEL_FILE

    def record_epoch(
        self,
        record: dict[str, Any],
        network: Network | None = None,
        shuffle_state: dict[str, Any] | None = None,
    ) -> None:
        """Append one epoch's record; save ``network`` too if it is due (see `MODEL_EVERY`).

        ``shuffle_state`` (`Trainer.shuffle_state`) is kept with the model, so that
        training the run further continues its shuffles instead of replaying them.
        """
        self.history.append(dict(record))
        if self._recorded != len(self.history) - 1:  # the history was changed by hand
            self._write_history()
            self._save_model_if_due(network, shuffle_state)
            self._update_index()
            return
        try:
            with open(self.path / HISTORY_FILE, "a", encoding="utf-8") as f:
                f.write(json.dumps(record) + "\n")
        except OSError as exc:
            raise ModelFileError(f"{self.path}: cannot save the run ({reason(exc)})") from None
        self._recorded += 1
        self._save_model_if_due(network, shuffle_state)
        self._update_index()

    def _update_index(self) -> None:
        """Write the run's row, after its files. Never fails the run: the files are the truth.

        An index that cannot be written now (locked for longer than its busy timeout,
        a read-only disk) is repaired by the next reader, whose stamps will not match.
        """
        if self.index is None:
            return
        try:
            self.index.put(
                index_row(self.path, self._document(), self.config, Summary.of(self.history))
            )
        except (sqlite3.Error, OSError):
            return  # the next reader's sync reads the folder again

    def _save_model_if_due(
        self, network: Network | None, shuffle_state: dict[str, Any] | None
    ) -> None:
        if network is not None and time.monotonic() - self._model_written >= self.model_every:
            self.save(network, shuffle_state=shuffle_state)

    def _write_history(self) -> None:
        """Rewrite epochs.jsonl whole: at creation, or after `history` was changed in place."""
        try:
            with atomic_write(self.path / HISTORY_FILE, "w") as f:
                f.writelines(json.dumps(r) + "\n" for r in self.history)
        except OSError as exc:
            raise ModelFileError(f"{self.path}: cannot save the run ({reason(exc)})") from None
        self._recorded = len(self.history)

    def save(
        self,
        network: Network | None = None,
        status: str | None = None,
        *,
        shuffle_state: dict[str, Any] | None = None,
    ) -> None:
        """Write ``model.npz`` (if ``network`` is given) and ``run.json``, each atomically.

        A ``status`` other than "running" marks the run finished, with the time.
        Raises `ModelFileError` if the files cannot be written (say, the disk is full).
        """
        if status is not None:
            if status not in STATUSES:
                raise ValueError(f"status must be one of {STATUSES}, got {status!r}")
            self.status = status
            self.finished = None if status == "running" else _now().isoformat(timespec="seconds")
        if self._recorded != len(self.history):  # cleared or edited in place (a retried run)
            self._write_history()
        try:
            if network is not None:
                from nntui.store.model_file import save_model

                # The model first: run.json never claims an epoch that model.npz lacks.
                save_model(
                    self.model_path,
                    network,
                    config=self.config,
                    seed=self.seed,
                    history=self.history,
                    shuffle_state=shuffle_state,
                )
                self.model_epoch = int(self.history[-1]["epoch"]) if self.history else 0
                self._model_written = time.monotonic()
            with atomic_write(self.path / RUN_FILE, "w") as f:
                f.write(json.dumps(self._document(), indent=1) + "\n")
        except OSError as exc:
            raise ModelFileError(f"{self.path}: cannot save the run ({reason(exc)})") from None
        self._update_index()

    def _document(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": VERSION,
            "name": self.name,
            "config": self.config.to_dict(),
            "seed": self.seed,
            "status": self.status,
            "started": self.started,
            "finished": self.finished,
            "resumed_from": self.resumed_from,
            "sweep": self.sweep,
            "note": self.note,
            # Who is training it, so that a run left "running" by a crash can be told apart.
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "model_epoch": self.model_epoch,
        }

    def finish(
        self,
        status: str,
        network: Network | None = None,
        shuffle_state: dict[str, Any] | None = None,
    ) -> None:
        """Record how the run ended ("completed", "stopped" or "diverged")."""
        self.save(network, status, shuffle_state=shuffle_state)

    def info(self) -> RunInfo:
        """The run as `RunStore.list` would show it."""
        return read_run(self.path)


class RunStore:
    """The runs directory: create runs in it, list them, find one by name, delete them.

    Listing goes through the runs index (`nntui.store.index`), brought up to date
    with the folders first. Notes about the index (built, repaired, no WAL) go to
    ``warn``, one line each; without one they are kept in `notes`.
    """

    def __init__(
        self,
        root: str | os.PathLike[str] | None = None,
        warn: Callable[[str], object] | None = None,
    ) -> None:
        self.root = Path(root).expanduser() if root is not None else runs_dir()
        self.notes: list[str] = []
        self._warn = warn or self.notes.append
        self.index = RunIndex(self.root, self._warn)
        self._usable = True  # False once the index could not be opened: read the folders

    def create(
        self,
        config: TrainConfig,
        seed: int | None,
        *,
        history: Sequence[dict[str, Any]] = (),
        resumed_from: str | None = None,
        sweep: str | None = None,
    ) -> Run:
        """Start a new run: make its folder and write its ``run.json`` (status "running").

        ``history`` and ``resumed_from`` are for a run that continues a saved
        model: its earlier epochs, and the run name or file it came from;
        ``sweep`` the id of the sweep the run is part of.
        Raises `ModelFileError` if the runs directory cannot be written.
        """
        started = _now()
        base = f"{started.strftime('%Y-%m-%dT%H-%M-%S')}_{short_config(config)}"
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            for n in range(1, 1000):
                path = self.root / (base if n == 1 else f"{base}-{n}")
                try:
                    path.mkdir()
                    break
                except FileExistsError:
                    continue
            else:  # pragma: no cover - a thousand runs in one second
                raise ModelFileError(f"{self.root}: too many runs named {base}")
        except OSError as exc:
            raise ModelFileError(
                f"{self.root}: cannot create a run in the runs directory ({reason(exc)}); "
                f"set {ENV_VAR} to a writable directory"
            ) from None
        run = Run(path, config, seed, started, history, resumed_from, sweep)
        run.index = self.index if self._open() else None
        run._write_history()
        run.save()
        return run

    def reopen(self, info: RunInfo, history: Sequence[dict[str, Any]]) -> Run:
        """Take up a stored run again (``nntui sweep --continue``), its records cut to `history`.

        The run keeps its folder, name and start time; its model stays as it is
        until the continued training saves a newer one. `ModelFileError` if it
        cannot be written.
        """
        run = Run(
            info.path,
            info.config,
            info.seed,
            datetime.fromisoformat(info.started),
            history,
            info.resumed_from,
            info.sweep,
        )
        run.model_epoch = info.model_epoch
        run.index = self.index if self._open() else None
        run._write_history()
        run._update_index()
        return run

    def close(self) -> None:
        """Close this thread's connection to the index (it is opened again when needed)."""
        self.index.close()

    # The index. -----------------------------------------------------------------------
    def _open(self) -> bool:
        """Make sure the index can be used; remake a damaged one. False: read the folders."""
        if not self._usable:
            return False
        if not self.root.is_dir():
            return False
        for attempt in (1, 2):
            try:
                with self.index.connect():
                    return True
            except sqlite3.OperationalError as exc:
                # Locked for longer than the busy timeout, a read-only directory: not damage.
                self._give_up(exc)
                return False
            except sqlite3.DatabaseError as exc:
                if attempt == 2:
                    self._give_up(exc)
                    return False
                try:
                    self.index.remove(f"damaged: {reason(exc)}")
                except OSError as cannot:  # a read-only runs directory
                    self._give_up(cannot)
                    return False
            except OSError as exc:
                self._give_up(exc)
                return False
        return False  # pragma: no cover

    def _give_up(self, exc: BaseException) -> None:
        self._usable = False
        self._warn(
            f"note: cannot use the runs index {self.index.path} ({reason(exc)}); "
            "reading every run folder instead"
        )

    def _fresh(self) -> bool:
        """Bring the index up to date with the folders; False if there is no usable index."""
        if not self._open():
            return False
        try:
            self.index.sync(read_row, _process_gone)
            return True
        except sqlite3.OperationalError as exc:
            self._give_up(exc)
        except sqlite3.DatabaseError as exc:  # damaged while in use: remake it once
            self.index.remove(f"damaged: {reason(exc)}")
            try:
                self.index.sync(read_row, _process_gone)
                return True
            except sqlite3.Error as again:
                self._give_up(again)
        return False

    def reindex(self) -> int | None:
        """Rebuild the index from the folders (``nntui runs --reindex``); return the runs.

        None if it could not be rebuilt (say, a directory in its place): the
        reason has been told to ``warn``, and readers fall back to the folders.
        """
        self._usable = True
        try:
            self.index.remove("asked for (--reindex)")
        except OSError as exc:
            self._give_up(exc)
            return None
        if not self._fresh():
            return None
        return self.index.count()

    # Reading. -------------------------------------------------------------------------
    def list(self, skipped: builtins.list[str] | None = None) -> builtins.list[RunInfo]:
        """Every readable run, oldest first. Never raises for a broken or foreign folder.

        Folders that are not readable runs are left out; if ``skipped`` is given,
        one line saying which and why is appended to it for each. Hidden folders
        (a leading dot) and plain files are passed over silently. Thousands of
        runs: prefer `query` with a limit, or `iter`.
        """
        if not self._fresh():
            return self._scan(skipped)
        if skipped is not None:
            skipped.extend(f"skipped {why}" for _, why in self.index.skipped())
        return list(self.iter())

    def query(
        self,
        filters: Sequence[Filter] = (),
        sort: str = "started",
        descending: bool = False,
        limit: int | None = None,
        offset: int = 0,
        *,
        sync: bool = True,
    ) -> builtins.list[RunInfo]:
        """The runs that pass ``filters``, sorted by a column of `nntui.store.index.COLUMNS`.

        ``sync=False`` skips bringing the index up to date first (the caller just did).
        """
        return list(self.iter(filters, sort, descending, limit, offset, sync=sync))

    def iter(
        self,
        filters: Sequence[Filter] = (),
        sort: str = "started",
        descending: bool = False,
        limit: int | None = None,
        offset: int = 0,
        *,
        sync: bool = True,
    ) -> Iterator[RunInfo]:
        """Like `query`, one run at a time: memory stays flat however many there are."""
        select = Selection(filters, sort, descending, limit, offset)
        if (sync and not self._fresh()) or not self._open():
            yield from _select(self._scan(), select)
            return
        for row in self.index.rows(select):
            yield info_from_row(self.root, row)

    def count(self, filters: Sequence[Filter] = (), *, sync: bool = True) -> int:
        """How many runs pass ``filters``."""
        if (sync and not self._fresh()) or not self._open():
            return len(_select(self._scan(), Selection(filters)))
        return self.index.count(filters)

    def is_empty(self) -> bool:
        """True if the runs directory holds no folder at all (a quick look, not a listing)."""
        try:
            with os.scandir(self.root) as entries:
                return not any(not e.name.startswith(".") for e in entries)
        except OSError:
            return True

    def version(self) -> tuple[int, int] | None:
        """A token that changes when any run does (after a sync); None without an index."""
        if not self._open():
            return None
        try:
            return self.index.version()
        except sqlite3.Error:
            return None

    def skipped(self) -> builtins.list[str]:
        """One line per folder that is not a readable run, saying why (after a `list`)."""
        if not self._open():
            skipped: builtins.list[str] = []
            self._scan(skipped)
            return skipped
        return [f"skipped {why}" for _, why in self.index.skipped()]

    def sweeps(self) -> builtins.list[str]:
        """The ids of the sweeps that have runs in the store."""
        if not self._fresh():
            return sorted({r.sweep for r in self._scan() if r.sweep})
        return self.index.sweeps()

    def _scan(self, skipped: builtins.list[str] | None = None) -> builtins.list[RunInfo]:
        """Every run read from its folder: without an index, the slow way."""
        try:
            entries = sorted(self.root.iterdir())
        except FileNotFoundError:
            return []
        except OSError as exc:
            if skipped is not None:
                skipped.append(f"{self.root}: cannot list the runs directory ({reason(exc)})")
            return []
        runs = []
        for entry in entries:
            if entry.name.startswith(".") or not entry.is_dir():
                continue
            try:
                runs.append(read_run(entry))
            except ModelFileError as exc:
                if skipped is not None:
                    skipped.append(f"skipped {exc}")
        runs.sort(key=lambda r: (_sort_time(r.started), r.name))
        return runs

    def _prefixed(self, text: str) -> tuple[builtins.list[RunInfo], int]:
        """The first 4 runs whose name starts with ``text``, and how many there are."""
        if not self._fresh():
            found = [r for r in self._scan() if r.name.startswith(text)]
            return found[:4], len(found)
        rows = self.index.rows(Selection(limit=4), prefix=text)
        first = [info_from_row(self.root, r) for r in rows]
        return first, len(first) if len(first) < 4 else self.index.count(prefix=text)

    def get(self, name: str | os.PathLike[str]) -> RunInfo:
        """The run with this folder name, a unique prefix of one, or at this folder path.

        Raises `ModelFileError` if there is none, or the prefix fits several.
        """
        try:
            return self._get(os.fspath(name))
        except ModelFileError:
            raise
        except OSError as exc:  # e.g. a runs directory that cannot be entered
            raise ModelFileError(
                f"{os.fspath(name)}: cannot look for the run ({reason(exc)})"
            ) from None

    def _get(self, text: str) -> RunInfo:
        if not text.strip():
            raise ModelFileError("no run name given (see 'nntui runs')")
        path = Path(text).expanduser()
        if os.sep in text or (path.is_dir() and (path / RUN_FILE).exists()):
            if path.is_dir():
                return read_run(path)
            raise ModelFileError(f"{text}: no such run folder")
        direct = self.root / text
        if direct.is_dir() and not text.startswith("."):
            return read_run(direct)
        matches, n = self._prefixed(text)
        if n == 1:
            return read_run(matches[0].path)
        if not n:
            raise ModelFileError(f"{text}: no run of that name in {self.root} (see 'nntui runs')")
        names = ", ".join(r.name for r in matches[:3]) + (", ..." if n > 3 else "")
        raise ModelFileError(f"{text}: {n} runs start with that ({names}); say which")

    def has_prefix(self, text: str) -> bool:
        """True if some run's name starts with ``text``."""
        return self._prefixed(text)[1] > 0

    # Deleting. ------------------------------------------------------------------------
    def delete(self, runs: Iterable[RunInfo | str]) -> int:
        """Delete these runs (infos or folder names): folders and rows together.

        Each folder is first renamed to a hidden ``.deleted-NAME`` (atomic, and
        no longer a run to any reader), then the rows go in one transaction, then
        the renamed folders. An interruption leaves hidden leftovers that the next
        `delete` removes, and rows without folders that the next listing drops.
        Returns how many runs were deleted; `ModelFileError` if one cannot be.
        """
        names = [r if isinstance(r, str) else r.name for r in runs]
        moved: builtins.list[Path] = []
        try:
            for name in names:
                if not name or name.startswith(".") or os.sep in name:
                    raise ModelFileError(f"{name!r}: not a run's name")
                target = self.root / f"{DELETED}{name}"
                shutil.rmtree(target, ignore_errors=True)  # a leftover of the same name
                try:
                    os.rename(self.root / name, target)
                except FileNotFoundError:
                    continue
                moved.append(target)
        except OSError as exc:
            raise ModelFileError(f"{self.root}: cannot delete the run ({reason(exc)})") from None
        finally:
            if self._open():
                with contextlib.suppress(sqlite3.Error):
                    self.index.drop(names)
            for path in moved:
                shutil.rmtree(path, ignore_errors=True)
        self._remove_leftovers()
        return len(moved)

    def _remove_leftovers(self) -> None:
        with contextlib.suppress(OSError), os.scandir(self.root) as entries:
            for entry in entries:
                if entry.name.startswith(DELETED) and entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path, ignore_errors=True)


DELETED = ".deleted-"  # the prefix a run's folder takes while it is being deleted


def _select(runs: Sequence[RunInfo], select: Selection) -> list[RunInfo]:
    """`RunIndex.rows`'s query done in Python, for a runs directory without a usable index."""
    rows = [(r, index_row_of(r)) for r in runs]
    kept = [(r, row) for r, row in rows if all(_passes(row, f) for f in select.filters)]
    column = COLUMNS[select.sort]
    descending = select.descending

    def key(item: tuple[RunInfo, Row]) -> tuple[Any, ...]:
        value = getattr(item[1], column)
        missing = value is None
        # SQLite puts NULL first going up and last going down; so do we.
        return (
            not missing if not descending else missing is False,
            value if not missing else 0,
            item[1].started_ts,
            item[1].name,
        )

    kept.sort(key=key, reverse=descending)
    offset = select.offset
    end = None if select.limit is None else offset + select.limit
    return [r for r, _ in kept[offset:end]]


def index_row_of(info: RunInfo) -> Row:
    doc = {
        "sweep": info.sweep,
        "status": info.status,
        "seed": info.seed,
        "started": info.started,
        "finished": info.finished,
        "resumed_from": info.resumed_from,
        "note": info.note,
        "model_epoch": info.model_epoch,
    }
    return index_row(info.path, doc, info.config, info.summary)


def _passes(row: Row, f: Filter) -> bool:
    value = getattr(row, COLUMNS[f.column])
    if f.op == "~":
        return value is not None and str(f.value) in str(value)
    if value is None:
        return False
    ops: dict[str, Callable[[Any, Any], bool]] = {
        "=": operator.eq,
        "!=": operator.ne,
        "<": operator.lt,
        "<=": operator.le,
        ">": operator.gt,
        ">=": operator.ge,
    }
    return ops[f.op](value, f.value)


def find_model(
    spec: str | os.PathLike[str],
    store: RunStore | None = None,
    warn: Callable[[str], object] | None = None,
) -> Path:
    """The model file ``spec`` means: a path to a ``.npz``, a run folder, or a run's name.

    Raises `ModelFileError` if it is none of these, or the run has no model yet.
    ``warn`` is told if the run recorded more epochs than its model holds (it
    ended in a crash between two model writes): resuming starts from the model.
    """
    text = os.fspath(spec)
    path = Path(text).expanduser()
    try:
        mode = path.stat().st_mode
        if not stat.S_ISDIR(mode):  # a file; a device, FIFO or socket load_model names
            return path
    except (FileNotFoundError, NotADirectoryError):
        pass
    except OSError:  # permission denied on the way: load_model says so in one line
        return path
    if path.is_dir() and not (path / RUN_FILE).exists():
        raise ModelFileError(f"{text}: is a directory, not a model file or a run")
    if path.suffix == ".npz" or (os.sep in text and not path.is_dir()):
        raise ModelFileError(f"{text}: no such model file")
    store = store or RunStore()
    if not path.is_dir() and not store.has_prefix(text):
        raise ModelFileError(f"{text}: no such model file or run (see 'nntui runs' for the runs)")
    info = store.get(text)  # one run, or an error saying the name fits several
    if info.model_path is None:
        raise ModelFileError(f"run {info.name} has no saved model yet (no epoch finished)")
    if warn is not None and info.model_epoch is not None and info.model_epoch < info.epochs_done:
        warn(
            f"run {info.name} recorded {info.epochs_done} epochs but its model was last "
            f"saved after epoch {info.model_epoch}; continuing from epoch {info.model_epoch}"
        )
    return info.model_path


def read_run(path: str | os.PathLike[str]) -> RunInfo:
    """Read the run in folder ``path``; raise `ModelFileError` (one line) if it is not one."""
    path = Path(path)
    doc, config, history = _read_folder(path)
    status = doc["status"]
    if status == "running" and _process_gone(doc.get("pid"), doc.get("host")):
        status = INTERRUPTED
    return RunInfo(
        name=path.name,
        path=path,
        config=config,
        seed=_int(doc.get("seed")),
        status=status,
        started=_text(doc.get("started")) or "",
        finished=_text(doc.get("finished")),
        resumed_from=_text(doc.get("resumed_from")),
        model_epoch=_int(doc.get("model_epoch")),
        sweep=_text(doc.get("sweep")),
        note=_text(doc.get("note")),
        summary=Summary.of(history),
        loaded=tuple(history),
    )


def _read_folder(path: Path) -> tuple[dict[str, Any], TrainConfig, list[dict[str, Any]]]:
    """run.json (checked), its config and the epochs; `ModelFileError` if it is not a run."""
    where = f"{path.name}"
    try:
        text = _read_regular(path / RUN_FILE, MAX_RUN_FILE)
    except FileNotFoundError:
        raise ModelFileError(f"{where}: not a run (no {RUN_FILE})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelFileError(f"{where}: cannot read {RUN_FILE} ({reason(exc)})") from None
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: nesting deeper than json can go
        raise ModelFileError(f"{where}: {RUN_FILE} is not valid JSON") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ModelFileError(f"{where}: {RUN_FILE} is not an nntui run")
    version = doc.get("version")
    if version not in (1, VERSION):
        raise ModelFileError(f"{where}: run version {version!r} is not supported")
    try:
        config = TrainConfig.from_dict(doc["config"]).validate()
    except (KeyError, TypeError, ValueError, OverflowError, ConfigError) as exc:
        raise ModelFileError(f"{where}: the config in {RUN_FILE} is invalid ({exc})") from None
    history = doc.get("epochs") if version == 1 else _read_history(path / HISTORY_FILE, where)
    if not isinstance(history, list) or not all(_is_record(r) for r in history):
        raise ModelFileError(f"{where}: the epochs of the run are invalid")
    if doc.get("status") not in STATUSES:
        raise ModelFileError(f"{where}: unknown status {doc.get('status')!r} in {RUN_FILE}")
    return doc, config, history


# SQLite's INTEGER is 64 bits: a larger int in a hand-written file would stop every insert.
_INT_LIMIT = 2**63


def _is_int(value: Any) -> bool:
    return (
        isinstance(value, int) and not isinstance(value, bool) and -_INT_LIMIT < value < _INT_LIMIT
    )


def _int(value: Any) -> int | None:
    return value if _is_int(value) else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def index_row(
    path: Path,
    doc: dict[str, Any],
    config: TrainConfig,
    summary: Summary,
    status: str | None = None,
) -> Row:
    """The index's row for the run in ``path``, whose files say ``doc`` and ``summary``.

    The stamps are taken now: call this after the files are written.
    """
    started = _text(doc.get("started")) or ""
    return Row(
        name=path.name,
        sweep=_text(doc.get("sweep")),
        sizes=format_sizes(config.sizes, "-"),
        eta=config.eta,
        mini_batch_size=config.mini_batch_size,
        epochs_done=summary.epochs_done,
        epochs_planned=config.epochs,
        best_epoch=summary.best_epoch,
        best_correct=summary.best_correct,
        best_total=summary.best_total,
        best_accuracy=summary.best_accuracy,
        last_accuracy=summary.last_accuracy,
        status=status or doc["status"],
        pid=_int(doc.get("pid")),
        host=_text(doc.get("host")),
        seed=_int(doc.get("seed")),
        started=started,
        started_ts=_sort_time(started),
        finished=_text(doc.get("finished")),
        resumed_from=_text(doc.get("resumed_from")),
        note=_text(doc.get("note")),
        model_epoch=_int(doc.get("model_epoch")),
        config=json.dumps(config.to_dict()),
        run_stamp=stamp(path / RUN_FILE),
        history_stamp=stamp(path / HISTORY_FILE),
    )


def read_row(path: Path) -> Row:
    """The index's row for folder ``path``, read from its files; `NotARun` if it is not one."""
    # The stamps first: a file that changes while it is read then no longer matches them,
    # and is read again next time, instead of a stale row that matches.
    run_stamp, history_stamp = stamp(path / RUN_FILE), stamp(path / HISTORY_FILE)
    try:
        doc, config, history = _read_folder(path)
    except ModelFileError as exc:
        raise NotARun(str(exc)) from None
    status = doc["status"]
    if status == "running" and _process_gone(doc.get("pid"), doc.get("host")):
        status = INTERRUPTED
    row = index_row(path, doc, config, Summary.of(history), status)
    return replace(row, run_stamp=run_stamp, history_stamp=history_stamp)


def info_from_row(root: Path, row: Row) -> RunInfo:
    """A `RunInfo` from the index: no epochs read until asked for."""
    return RunInfo(
        name=row.name,
        path=root / row.name,
        config=TrainConfig.from_dict(row.config_dict),
        seed=row.seed,
        status=row.status,
        started=row.started,
        finished=row.finished,
        resumed_from=row.resumed_from,
        model_epoch=row.model_epoch,
        sweep=row.sweep,
        note=row.note,
        summary=Summary(
            row.epochs_done, row.best_epoch, row.best_correct, row.best_total, row.last_accuracy
        ),
    )


def _read_history(path: Path, where: str) -> list[Any]:
    try:
        lines = _read_regular(path).splitlines()
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelFileError(f"{where}: cannot read {HISTORY_FILE} ({reason(exc)})") from None
    records = []
    for n, line in enumerate(lines, 1):
        try:
            records.append(json.loads(line))
        except (ValueError, RecursionError):
            if n == len(lines):  # the line being appended when the process died
                break
            raise ModelFileError(f"{where}: line {n} of {HISTORY_FILE} is not JSON") from None
    return records


# A run.json is about 1 KB; one far larger was not written by nntui, and its text
# would go into the index and be read again by every listing.
MAX_RUN_FILE = 1 << 20


def _read_regular(path: Path, limit: int | None = None) -> str:
    """The UTF-8 text of regular file ``path``, at most ``limit`` bytes; `OSError` otherwise.

    A FIFO would block the reader for ever and a device never end, so they are
    refused; opening with O_NONBLOCK lets a FIFO be looked at without a writer.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    with open(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        data = f.read(-1 if limit is None else limit + 1)
    if limit is not None and len(data) > limit:
        raise OSError(errno.EFBIG, f"larger than {limit // (1 << 20)} MiB")
    return data.decode("utf-8")


def _is_record(r: Any) -> bool:
    return isinstance(r, dict) and all(_is_int(r.get(k)) for k in ("epoch", "correct", "total"))


def _process_gone(pid: Any, host: Any) -> bool:
    """True if ``pid`` on this host has exited (so its "running" run will never finish)."""
    if not isinstance(pid, int) or host != socket.gethostname() or pid <= 0:
        return False  # another machine's run (a shared home directory): we cannot tell
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):  # OverflowError: no process has such a pid
        return True
    except OSError:  # e.g. PermissionError: it exists, as another user's process
        return False
    return False


def _now() -> datetime:
    return datetime.now().astimezone()


def _sort_time(started: str) -> float:
    with contextlib.suppress(ValueError):
        return datetime.fromisoformat(started).timestamp()
    return float("-inf")

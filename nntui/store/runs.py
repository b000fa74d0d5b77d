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

import contextlib
import json
import os
import socket
import stat
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from nntui.engine.config import TrainConfig, format_sizes
from nntui.engine.errors import ConfigError, ModelFileError, reason
from nntui.engine.network import Network
from nntui.store.atomic import atomic_write
from nntui.store.model_file import SavedModel, load_model, save_model

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
class RunInfo:
    """What `RunStore.list` and `RunStore.get` know about one stored run."""

    name: str  # the folder's name
    path: Path  # the folder
    config: TrainConfig
    seed: int | None
    status: str  # one of STATUSES, or INTERRUPTED
    history: tuple[dict[str, Any], ...] = field(repr=False)  # epoch_record dicts, in order
    started: str  # ISO 8601 with the UTC offset
    finished: str | None
    resumed_from: str | None = None  # the run or model file this one continued
    model_epoch: int | None = None  # the epoch model.npz holds (None: as the history)
    sweep: str | None = None  # the id of the `nntui sweep` this run belongs to
    note: str | None = None  # why a run failed, e.g. "worker lost"

    @property
    def epochs_done(self) -> int:
        return int(self.history[-1]["epoch"]) if self.history else 0

    @property
    def best(self) -> dict[str, Any] | None:
        """The epoch record with the most correct answers (the earliest of equals)."""
        return max(self.history, key=lambda r: r["correct"], default=None)

    @property
    def best_accuracy(self) -> float | None:
        """The best epoch's fraction correct, 0..1, or None before the first epoch."""
        best = self.best
        return best["correct"] / best["total"] if best and best["total"] else None

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
            return
        try:
            with open(self.path / HISTORY_FILE, "a", encoding="utf-8") as f:
                f.write(json.dumps(record) + "\n")
        except OSError as exc:
            raise ModelFileError(f"{self.path}: cannot save the run ({reason(exc)})") from None
        self._recorded += 1
        self._save_model_if_due(network, shuffle_state)

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
    """The runs directory: create runs in it, list them, find one by name."""

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self.root = Path(root).expanduser() if root is not None else runs_dir()

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
        run._write_history()
        return run

    def list(self, skipped: list[str] | None = None) -> list[RunInfo]:
        """Every readable run, oldest first. Never raises for a broken or foreign folder.

        Folders that are not readable runs are left out; if ``skipped`` is given,
        one line saying which and why is appended to it for each. Hidden folders
        (a leading dot) and plain files are passed over silently.
        """
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

    def get(self, name: str | os.PathLike[str]) -> RunInfo:
        """The run with this folder name, a unique prefix of one, or at this folder path.

        Raises `ModelFileError` if there is none, or the prefix fits several.
        """
        text = os.fspath(name)
        if not text.strip():
            raise ModelFileError("no run name given (see 'nntui runs')")
        path = Path(text).expanduser()
        if os.sep in text or (path.is_dir() and (path / RUN_FILE).exists()):
            if path.is_dir():
                return read_run(path)
            raise ModelFileError(f"{text}: no such run folder")
        direct = self.root / text
        if direct.is_dir():
            return read_run(direct)
        matches = [r for r in self.list() if r.name.startswith(text)]
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise ModelFileError(f"{text}: no run of that name in {self.root} (see 'nntui runs')")
        names = ", ".join(r.name for r in matches[:3]) + (", ..." if len(matches) > 3 else "")
        raise ModelFileError(f"{text}: {len(matches)} runs start with that ({names}); say which")


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
    if not any(r.name.startswith(text) for r in store.list()) and not path.is_dir():
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
    where = f"{path.name}"
    try:
        text = (path / RUN_FILE).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ModelFileError(f"{where}: not a run (no {RUN_FILE})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelFileError(f"{where}: cannot read {RUN_FILE} ({reason(exc)})") from None
    try:
        doc = json.loads(text)
    except ValueError:
        raise ModelFileError(f"{where}: {RUN_FILE} is not valid JSON") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ModelFileError(f"{where}: {RUN_FILE} is not an nntui run")
    version = doc.get("version")
    if version not in (1, VERSION):
        raise ModelFileError(f"{where}: run version {version!r} is not supported")
    try:
        config = TrainConfig.from_dict(doc["config"]).validate()
    except (KeyError, TypeError, ValueError, ConfigError) as exc:
        raise ModelFileError(f"{where}: the config in {RUN_FILE} is invalid ({exc})") from None
    history = doc.get("epochs") if version == 1 else _read_history(path / HISTORY_FILE, where)
    if not isinstance(history, list) or not all(_is_record(r) for r in history):
        raise ModelFileError(f"{where}: the epochs of the run are invalid")
    model_epoch = doc.get("model_epoch")
    status = doc.get("status")
    if status not in STATUSES:
        raise ModelFileError(f"{where}: unknown status {status!r} in {RUN_FILE}")
    if status == "running" and _process_gone(doc.get("pid"), doc.get("host")):
        status = INTERRUPTED
    seed = doc.get("seed")
    started = doc.get("started")
    finished = doc.get("finished")
    resumed_from = doc.get("resumed_from")
    sweep, note = doc.get("sweep"), doc.get("note")
    return RunInfo(
        name=path.name,
        path=path,
        config=config,
        seed=seed if isinstance(seed, int) else None,
        status=status,
        history=tuple(history),
        started=started if isinstance(started, str) else "",
        finished=finished if isinstance(finished, str) else None,
        resumed_from=resumed_from if isinstance(resumed_from, str) else None,
        model_epoch=model_epoch if isinstance(model_epoch, int) else None,
        sweep=sweep if isinstance(sweep, str) else None,
        note=note if isinstance(note, str) else None,
    )


def _read_history(path: Path, where: str) -> list[Any]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelFileError(f"{where}: cannot read {HISTORY_FILE} ({reason(exc)})") from None
    records = []
    for n, line in enumerate(lines, 1):
        try:
            records.append(json.loads(line))
        except ValueError:
            if n == len(lines):  # the line being appended when the process died
                break
            raise ModelFileError(f"{where}: line {n} of {HISTORY_FILE} is not JSON") from None
    return records


def _is_record(r: Any) -> bool:
    return isinstance(r, dict) and all(
        isinstance(r.get(k), int) and not isinstance(r.get(k), bool)
        for k in ("epoch", "correct", "total")
    )


def _process_gone(pid: Any, host: Any) -> bool:
    """True if ``pid`` on this host has exited (so its "running" run will never finish)."""
    if not isinstance(pid, int) or host != socket.gethostname() or pid <= 0:
        return False  # another machine's run (a shared home directory): we cannot tell
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
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

"""The runs index: one SQLite row per run, so that thousands of runs list in a blink.

The run folders stay the source of truth; ``<runs dir>/.index.sqlite`` only
remembers what reading them gave. Every writer in `nntui.store.runs` writes a
run's files first (atomically), then its row, so a crash between the two leaves
a folder the index does not list, or lists as it was. `RunIndex.sync` brings it
up to date cheaply enough to run before every listing:

* folders made or removed by anyone (by hand, copied in, by an nntui without
  the index) move the runs directory's mtime and link count: when that stamp
  differs from the one kept, the folder names are compared with the rows, and
  new folders are read, rows without a folder dropped;
* a run still "running" may be written by a process that does not keep the
  index (an older nntui): each row keeps a stamp (size and mtime in ns) of its
  ``run.json`` and ``epochs.jsonl``, and these runs' files are checked every
  time (appending an epoch changes the file's stamp, not the folder's);
* a finished run's files are not looked at again: at 20,000 runs those stats
  would be most of the cost of a listing. After editing finished runs by hand,
  ``nntui runs --reindex`` reads every folder again.

The file is in WAL mode with a busy timeout, so several writers (a training, a
dashboard, a sweep client) and readers share it. Where WAL cannot work (some
network filesystems), SQLite's rollback journal is used instead, said once.
A missing, damaged or other-version index is rebuilt from the folders, said in
one line.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import sqlite3
import stat as stat_module
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from nntui.engine.errors import ConfigError, reason

FILE = ".index.sqlite"  # hidden, so that listing the run folders passes over it
SCHEMA = 2  # PRAGMA user_version; another number means: rebuild
APPLICATION_ID = 0x6E6E7475  # "nntu", so that a foreign SQLite file is not taken for ours
BUSY_SECONDS = 30.0  # how long a writer waits for another one's transaction
BATCH = 500  # rows fetched at a time when streaming

# The columns one can sort and filter by, as the CLI and the dashboard name them.
COLUMNS = {
    "name": "name",
    "started": "started_ts",
    "sizes": "sizes",
    "eta": "eta",
    "m": "mini_batch_size",
    "epochs": "epochs_done",
    "best": "best_accuracy",
    "last": "last_accuracy",
    "status": "status",
    "sweep": "sweep",
    "seed": "seed",
}
NUMERIC = {"started", "eta", "m", "epochs", "best", "last", "seed"}
OPERATORS = ("<=", ">=", "!=", "=", "<", ">", "~")  # two-character ones first, for parsing

_CREATE = """
CREATE TABLE runs (
    name TEXT PRIMARY KEY,
    sweep TEXT,
    sizes TEXT NOT NULL,            -- 784-30-10
    eta REAL NOT NULL,
    mini_batch_size INTEGER NOT NULL,
    epochs_done INTEGER NOT NULL,
    epochs_planned INTEGER NOT NULL,
    best_epoch INTEGER,
    best_correct INTEGER,
    best_total INTEGER,
    best_accuracy REAL,             -- 0..1, NULL before the first epoch
    last_accuracy REAL,
    status TEXT NOT NULL,           -- as shown: "interrupted" for a crashed "running" run
    pid INTEGER,
    host TEXT,
    seed INTEGER,
    started TEXT NOT NULL,
    started_ts REAL NOT NULL,
    finished TEXT,
    resumed_from TEXT,
    note TEXT,
    model_epoch INTEGER,
    config TEXT NOT NULL,           -- TrainConfig.to_dict() as JSON
    run_stamp TEXT NOT NULL,
    history_stamp TEXT NOT NULL
);
CREATE INDEX runs_by_start ON runs (started_ts, name);
CREATE INDEX runs_by_sweep ON runs (sweep, started_ts);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE skipped (              -- folders that are not readable runs, and why
    name TEXT PRIMARY KEY,
    why TEXT NOT NULL,
    run_stamp TEXT NOT NULL,
    history_stamp TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class Row:
    """What the index keeps of one run: plain values, no epochs."""

    name: str
    sweep: str | None
    sizes: str
    eta: float
    mini_batch_size: int
    epochs_done: int
    epochs_planned: int
    best_epoch: int | None
    best_correct: int | None
    best_total: int | None
    best_accuracy: float | None
    last_accuracy: float | None
    status: str
    pid: int | None
    host: str | None
    seed: int | None
    started: str
    started_ts: float
    finished: str | None
    resumed_from: str | None
    note: str | None
    model_epoch: int | None
    config: str  # JSON
    run_stamp: str
    history_stamp: str

    def values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, f) for f in _FIELDS)

    @property
    def config_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = json.loads(self.config)
        return doc


_FIELDS = tuple(f.name for f in fields(Row))  # the table's columns, in order
_INSERT = (
    f"INSERT OR REPLACE INTO runs ({', '.join(_FIELDS)}) VALUES ({', '.join('?' for _ in _FIELDS)})"
)


@dataclass(frozen=True)
class Filter:
    """One condition on a column, such as ``best>=0.95`` or ``status=completed``."""

    column: str  # a key of COLUMNS
    op: str  # one of OPERATORS; "~" means "contains"
    value: str | float

    def sql(self) -> tuple[str, Any]:
        field = COLUMNS[self.column]
        if self.op == "~":
            return f"instr({field}, ?) > 0", str(self.value)
        return f"{field} {self.op} ?", self.value


def parse_filter(text: str) -> Filter:
    """``COLUMN OP VALUE``, e.g. ``status=completed``, ``best>=95%``, ``sizes~30``.

    Accuracies (best, last) may be given as 0..1 or as a percentage (``95%`` or ``95``).
    Raises `ConfigError` with one line saying what is allowed.
    """
    match = re.fullmatch(r"\s*([a-z_]+)\s*(<=|>=|!=|=|<|>|~)\s*(.*?)\s*", text)
    allowed = ", ".join(COLUMNS)
    if not match:
        raise ConfigError(
            f"filter {text!r} should be COLUMN OP VALUE (OP one of {' '.join(OPERATORS)}), "
            f"e.g. status=completed or best>=0.95"
        )
    column, op, value = match.groups()
    if column not in COLUMNS:
        raise ConfigError(f"filter {text!r}: no column {column!r} (one of {allowed})")
    if not value:
        raise ConfigError(f"filter {text!r}: no value after {op!r}")
    if column in NUMERIC and op != "~":
        number_text = value.removesuffix("%")
        try:
            number = float(number_text)
        except ValueError:
            raise ConfigError(f"filter {text!r}: {column} takes a number, not {value!r}") from None
        if column in ("best", "last") and (value.endswith("%") or number > 1):
            number /= 100  # a percentage, as the table shows them
        if column == "started":
            raise ConfigError(f"filter {text!r}: filter on the name (e.g. name~2026-12) instead")
        return Filter(column, op, number)
    if op == "~" or column in ("name", "sizes", "status", "sweep"):
        if column == "sizes":
            value = value.replace(",", "-")
        return Filter(column, op, value)
    raise ConfigError(f"filter {text!r}: {column} takes a number")  # pragma: no cover


def sort_column(text: str) -> str:
    """The column ``text`` names, or `ConfigError` listing them."""
    if text not in COLUMNS:
        raise ConfigError(f"cannot sort by {text!r}: choose one of {', '.join(COLUMNS)}")
    return text


def stamp(path: Path) -> str:
    """``mtime_ns:size`` of a file, or ``-`` if there is none: what a change would change."""
    return _stamp(os.fspath(path))


def _stamp(path: str) -> str:
    st = _stat_or_none(path)
    return "-" if st is None else f"{st.st_mtime_ns}:{st.st_size}"


def _stat_or_none(path: str) -> os.stat_result | None:
    try:
        return os.stat(path)
    except OSError:
        return None


# A folder read for the index: its row, or why it is not a run.
ReadFolder = Callable[[Path], Row]


@dataclass(frozen=True)
class Selection:
    """Which runs, in which order and which page: what `RunIndex.rows` asks of SQLite and
    the runs store does in Python where there is no usable index."""

    filters: Sequence[Filter] = ()
    sort: str = "started"  # a key of `COLUMNS`
    descending: bool = False
    limit: int | None = None
    offset: int = 0


EVERY_RUN = Selection()


class NotARun(Exception):
    """Raised by a reader to say a folder is not a run (its message is the reason)."""


_inherited: list[sqlite3.Connection] = []  # connections a fork brought along, never closed
_said: set[tuple[str, str]] = set()  # (index path, what): notes said once per process
_said_lock = threading.Lock()


def say_once(path: Path, what: str, line: str, warn: Callable[[str], object]) -> None:
    with _said_lock:
        if (str(path), what) in _said:
            return
        _said.add((str(path), what))
    warn(line)


class RunIndex:
    """The SQLite file of one runs directory, used from any thread and any process.

    Each thread has a connection of its own (see `connect`); SQLite's locking
    (WAL, busy timeout) keeps writers from several processes apart, and every
    write is one short transaction.
    """

    def __init__(self, root: Path, warn: Callable[[str], object]) -> None:
        self.root = root
        self.path = root / FILE
        self._warn = warn
        self._checked = False  # schema known good in this process
        self._why: str | None = None  # why the file was removed, for the rebuild's line
        self._local = threading.local()
        self._generation = 0  # moved on by `remove`: every thread opens the new file

    # Connections. ---------------------------------------------------------------------
    @contextlib.contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """This thread's connection, in autocommit mode; `sqlite3.Error` / `OSError` if none.

        Each thread keeps its connection: closing the last connection to a WAL
        database checkpoints it and removes the WAL, which costs more than a
        whole epoch's write. A connection is opened again after a fork, after
        `remove`, or when the file was replaced (another process rebuilt it).
        """
        conn = self._connection()
        try:
            yield conn
        except BaseException as exc:
            if conn.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.DatabaseError):
                self._forget()
            raise

    def _connection(self) -> sqlite3.Connection:
        local = self._local
        conn: sqlite3.Connection | None = getattr(local, "conn", None)
        if conn is not None:
            same = (local.pid, local.generation, local.inode) == (
                os.getpid(),
                self._generation,
                _inode(self.path),
            )
            if same:
                return conn
            self._forget()
            self._checked = False  # another file, perhaps made by another version: check it
        conn = self.open()
        local.conn, local.pid = conn, os.getpid()
        local.generation, local.inode = self._generation, _inode(self.path)
        return conn

    def _forget(self) -> None:
        """Let go of this thread's connection (closed, unless it came through a fork)."""
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            if getattr(self._local, "pid", None) == os.getpid():
                with contextlib.suppress(sqlite3.Error):
                    conn.close()
            else:  # SQLite's locks belong to the parent: closing here could break them
                _inherited.append(conn)

    def close(self) -> None:
        """Close this thread's connection (the next use opens another)."""
        self._forget()

    def open(self) -> sqlite3.Connection:
        """A new connection of its own (for a long read); the schema checked the first time."""
        _check_plain_file(self.path)
        conn = sqlite3.connect(self.path, timeout=BUSY_SECONDS, isolation_level=None)
        try:
            if not self._checked:
                self._prepare(conn)
            conn.execute("PRAGMA synchronous=NORMAL")
        except BaseException:
            conn.close()
            raise
        return conn

    def _prepare(self, conn: sqlite3.Connection) -> None:
        """Check the file is our index of this schema; make or remake it if not."""
        self._set_journal(conn)
        conn.execute("PRAGMA synchronous=NORMAL")
        app, version = _ids(conn)
        if app == APPLICATION_ID and version == SCHEMA:
            self._checked = True
            return
        fresh = app == 0 and version == 0 and not _tables(conn)
        conn.execute("BEGIN IMMEDIATE")
        try:
            app, version = _ids(conn)  # another process may have made it meanwhile
            if app != APPLICATION_ID or version != SCHEMA:
                for table in _tables(conn):
                    conn.execute(f'DROP TABLE IF EXISTS "{table}"')
                for statement in _CREATE.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
                conn.execute(f"PRAGMA user_version={SCHEMA}")
                why = self._why or ("missing" if fresh else "from another version of nntui")
                conn.execute("INSERT INTO skipped VALUES ('.rebuild', ?, '', '')", (why,))
                self._why = None
            conn.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise
        self._checked = True

    def _set_journal(self, conn: sqlite3.Connection) -> None:
        try:
            mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        except sqlite3.OperationalError:
            mode = "error"
        if str(mode).lower() != "wal":
            conn.execute("PRAGMA journal_mode=DELETE")
            say_once(
                self.path,
                "journal",
                f"note: the runs index {self.path} cannot use SQLite's WAL on this filesystem; "
                "using its rollback journal (several writers at once wait for each other)",
                self._warn,
            )

    def remove(self, why: str = "removed") -> None:
        """Delete the index file (and WAL's two companions): the next use rebuilds it."""
        self._why = why
        self._generation += 1
        self._forget()
        for suffix in ("", "-wal", "-shm", "-journal"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f"{self.path}{suffix}")
        self._checked = False

    # Writing. -------------------------------------------------------------------------
    def put(self, row: Row) -> None:
        """Insert or replace one run's row."""
        with self.connect() as conn:
            conn.execute(_INSERT, row.values())

    def drop(self, names: Iterable[str]) -> None:
        """Forget these runs, in one transaction."""
        names = list(names)
        with self.connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany("DELETE FROM runs WHERE name = ?", [(n,) for n in names])
            conn.executemany("DELETE FROM skipped WHERE name = ?", [(n,) for n in names])
            conn.execute("COMMIT")

    def sync(
        self, read: ReadFolder, process_gone: Callable[[int | None, str | None], bool]
    ) -> None:
        """Bring the index up to date with the folders (see the module's docstring).

        A folder that cannot be read is remembered in ``skipped`` with why, so
        that it is not read again until its files change.
        """
        base = os.fspath(self.root)
        root_stamp = _dir_stamp(base)
        with self.connect() as conn:
            rebuild = conn.execute("SELECT why FROM skipped WHERE name = '.rebuild'").fetchone()
            known_root = conn.execute("SELECT value FROM meta WHERE key = 'root'").fetchone()
            # Folders came or went (the directory's mtime and link count moved): compare
            # the names. Otherwise only the runs still going need a look.
            scan = rebuild is not None or known_root is None or known_root[0] != root_stamp
            indexed: set[str] = (
                {name for (name,) in conn.execute("SELECT name FROM runs")} if scan else set()
            )
            live = {
                name: (run_stamp, history_stamp, status, pid, host)
                for name, run_stamp, history_stamp, status, pid, host in conn.execute(
                    "SELECT name, run_stamp, history_stamp, status, pid, host FROM runs "
                    "WHERE status IN ('running', 'interrupted')"
                )
            }
            skipped = {
                name: (run_stamp, history_stamp)
                for name, run_stamp, history_stamp in conn.execute(
                    "SELECT name, run_stamp, history_stamp FROM skipped WHERE name != '.rebuild'"
                )
            }
        stale: list[str] = []
        crashed: list[str] = []
        gone: list[str] = []
        # Plain strings: at 20,000 runs, pathlib's joins cost more than the stats.
        for name, (run_stamp, history_stamp, status, pid, host) in live.items():
            now = (_stamp(f"{base}/{name}/run.json"), _stamp(f"{base}/{name}/epochs.jsonl"))
            if now == ("-", "-") and not os.path.isdir(f"{base}/{name}"):
                gone.append(name)
            elif now != (run_stamp, history_stamp):
                stale.append(name)
            elif status == "running" and process_gone(pid, host):
                crashed.append(name)
        for name, stamps in skipped.items():
            now = (_stamp(f"{base}/{name}/run.json"), _stamp(f"{base}/{name}/epochs.jsonl"))
            if now != stamps:
                (stale if os.path.isdir(f"{base}/{name}") else gone).append(name)
        if scan:
            folders = _folders(self.root)
            stale += [n for n in folders if n not in indexed and n not in skipped]
            gone += [n for n in indexed if n not in folders and n not in live]
            gone += [n for n in skipped if n not in folders and n not in gone]
        # A stamp taken within a second or two of a change may miss a second change in the
        # same tick of a coarse clock (some filesystems keep seconds): then look again.
        settled = root_stamp if _settled(base) else ""
        if scan or known_root is None or known_root[0] != settled:
            with self.connect() as conn:
                conn.execute("INSERT OR REPLACE INTO meta VALUES ('root', ?)", (settled,))
        if not stale and not gone and not crashed and rebuild is None:
            return
        rows: list[Row] = []
        bad: list[tuple[str, str, str, str]] = []
        for name in stale:
            folder = self.root / name
            before = (stamp(folder / "run.json"), stamp(folder / "epochs.jsonl"))
            try:
                rows.append(read(folder))
            except NotARun as exc:
                bad.append((name, str(exc), *before))
        with self.connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany("DELETE FROM runs WHERE name = ?", [(n,) for n in gone])
            conn.executemany("DELETE FROM skipped WHERE name = ?", [(n,) for n in gone])
            conn.executemany("DELETE FROM runs WHERE name = ?", [(b[0],) for b in bad])
            conn.executemany("INSERT OR REPLACE INTO skipped VALUES (?, ?, ?, ?)", bad)
            conn.executemany("DELETE FROM skipped WHERE name = ?", [(r.name,) for r in rows])
            conn.executemany(_INSERT, [r.values() for r in rows])
            conn.executemany(
                "UPDATE runs SET status = 'interrupted' WHERE name = ? AND status = 'running'",
                [(n,) for n in crashed],
            )
            conn.execute("DELETE FROM skipped WHERE name = '.rebuild'")
            conn.execute("COMMIT")
        if rebuild is not None:
            if not rows and not bad:  # a new runs directory: nothing was missed
                return
            self._warn(
                f"note: built the runs index {self.path} from {len(rows):,} run folders "
                f"(it was {rebuild[0]})"
            )
        else:
            # A writer updates its row right after its files: a "running" run read here was
            # caught between the two, which is no news. Anything else changed outside nntui.
            outside = [r for r in rows if _status(live, r.name) != "running"]
            outside_gone = [n for n in gone if _status(live, n) != "running"]
            if outside or outside_gone:
                self._warn(
                    f"note: updated the runs index: {_runs(len(outside))} new or changed and "
                    f"{_runs(len(outside_gone))} gone since nntui last wrote it"
                )

    def mark_rebuild(self, why: str) -> None:
        """Make the next `sync` read every folder again, saying ``why`` in its line."""
        with self.connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("DELETE FROM runs")
            conn.execute("DELETE FROM skipped")
            conn.execute("INSERT INTO skipped VALUES ('.rebuild', ?, '', '')", (why,))
            conn.execute("COMMIT")

    # Reading. -------------------------------------------------------------------------
    def skipped(self) -> list[tuple[str, str]]:
        """(folder name, why) of the folders that are not readable runs."""
        with self.connect() as conn:
            return list(
                conn.execute("SELECT name, why FROM skipped WHERE name != '.rebuild' ORDER BY name")
            )

    def count(self, filters: Sequence[Filter] = (), prefix: str | None = None) -> int:
        where, params = _where(filters, prefix)
        with self.connect() as conn:
            n: int = conn.execute(f"SELECT count(*) FROM runs{where}", params).fetchone()[0]
            return n

    def rows(self, select: Selection = EVERY_RUN, prefix: str | None = None) -> Iterator[Row]:
        """The rows ``select`` picks, a batch at a time (memory stays flat).

        Ties are broken by start time then name, in the same direction, so pages do not overlap.
        """
        where, params = _where(select.filters, prefix)
        direction = "DESC" if select.descending else "ASC"
        order = f"{COLUMNS[select.sort]} {direction}, started_ts {direction}, name {direction}"
        sql = f"SELECT {', '.join(_FIELDS)} FROM runs{where} ORDER BY {order}"
        if select.limit is not None or select.offset:
            sql += " LIMIT ? OFFSET ?"
            params = [*params, -1 if select.limit is None else select.limit, select.offset]
        # A connection of its own: the caller may use the index between two rows.
        conn = self.open()
        try:
            cursor = conn.execute(sql, params)
            while batch := cursor.fetchmany(BATCH):
                for values in batch:
                    yield Row(*values)
        finally:
            conn.close()

    def version(self) -> tuple[int, int]:
        """A token that changes whenever a row is written or deleted (rows, highest rowid).

        ``INSERT OR REPLACE`` gives the new row a new rowid, so every write moves it.
        """
        with self.connect() as conn:
            count, top = conn.execute(
                "SELECT count(*), coalesce(max(rowid), 0) FROM runs"
            ).fetchone()
            return int(count), int(top)

    def sweeps(self) -> list[str]:
        """The ids of the sweeps that have runs in the index, in order."""
        with self.connect() as conn:
            return [
                s
                for (s,) in conn.execute(
                    "SELECT DISTINCT sweep FROM runs WHERE sweep IS NOT NULL ORDER BY sweep"
                )
            ]


def _status(live: dict[str, tuple[Any, ...]], name: str) -> str | None:
    found = live.get(name)
    return None if found is None else str(found[2])


def _check_plain_file(path: Path) -> None:
    """`OSError` if something other than a plain file (or nothing) is at ``path``.

    Opening a FIFO would block for ever, and a symlink would have SQLite write
    wherever it points: a runs directory shared with others should not allow either.
    """
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat_module.S_ISREG(st.st_mode):
        raise OSError(errno.EINVAL, "not a plain file", os.fspath(path))


def _dir_stamp(path: str) -> str:
    """mtime, link count and inode of the runs directory: a folder made or removed moves one."""
    st = _stat_or_none(path)
    return "-" if st is None else f"{st.st_mtime_ns}:{st.st_nlink}:{st.st_ino}"


def _settled(path: str, margin: float = 2.0) -> bool:
    """True if the directory has not changed for ``margin`` seconds (its stamp can be trusted)."""
    try:
        return time.time() - os.stat(path).st_mtime > margin
    except OSError:
        return False


def _inode(path: Path) -> int | None:
    try:
        return os.stat(path).st_ino
    except OSError:
        return None


def _runs(n: int) -> str:
    return f"{n:,} run{'' if n == 1 else 's'}"


def _ids(conn: sqlite3.Connection) -> tuple[int, int]:
    app = conn.execute("PRAGMA application_id").fetchone()[0]
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    return int(app), int(version)


def _tables(conn: sqlite3.Connection) -> list[str]:
    return [
        name
        for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]


def _where(filters: Sequence[Filter], prefix: str | None = None) -> tuple[str, list[Any]]:
    parts: list[str] = []
    params: list[Any] = []
    for f in filters:
        part, param = f.sql()
        parts.append(part)
        params.append(param)
    if prefix is not None:
        parts.append("substr(name, 1, ?) = ?")
        params += [len(prefix), prefix]
    return (" WHERE " + " AND ".join(parts) if parts else ""), params


def _folders(root: Path) -> set[str]:
    """The names of the run folders: directories without a leading dot."""
    try:
        with os.scandir(root) as entries:
            return {e.name for e in entries if not e.name.startswith(".") and e.is_dir()}
    except OSError:
        return set()


def describe(exc: BaseException) -> str:
    """Why the index could not be used, in a few words."""
    return reason(exc)

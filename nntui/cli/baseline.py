"""`nntui baseline svm`: fit the chapter's SVM baseline once and cache its score beside the data.

The fit runs in a child process: scikit-learn's C code does not return to
Python for minutes, so a Ctrl-C in the same process would wait for it. Here
the parent only waits and shows the time; on Ctrl-C it kills the child at once.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import signal
import sys
import time
from collections.abc import Iterator
from enum import StrEnum
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from nntui.cli.console import (
    EXIT_SIGINT,
    EXIT_SIGNAL,
    EXIT_SIGTERM,
    DataOption,
    err_console,
    fail,
    print_error,
)
from nntui.cli.data import ensure_data_with_progress
from nntui.data import datastore
from nntui.data.mnist import load_mnist
from nntui.engine.dataset import Split
from nntui.engine.lifeline import Lifeline
from nntui.engine.svm import (
    BOOK_SVM_CORRECT,
    INSTALL_HINT,
    SvmResult,
    fit_and_score,
    svm_available,
)
from nntui.render.formats import duration
from nntui.store.baselines import check_cache_writable, load_svm_results, save_svm_result

baseline_app = typer.Typer(
    name="baseline",
    help="The chapter's baselines to compare the network with (the SVM takes minutes).",
    context_settings={"help_option_names": ["-h", "--help"]},
    no_args_is_help=True,
)

# How often a line saying the fit goes on is printed when stderr is not a terminal.
PLAIN_EVERY_SECONDS = 60.0


class Gamma(StrEnum):
    auto = "auto"  # 1 / 784: scikit-learn's default when the book was written
    scale = "scale"  # today's default


class _Terminated(Exception):
    """SIGTERM or SIGHUP arrived while the child was fitting."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum
        self.word = "hung up" if signum == signal.SIGHUP else "terminated"


@baseline_app.command("svm")
def svm(
    data: DataOption = None,
    gamma: Annotated[
        Gamma,
        typer.Option(help="Kernel width: 'auto' is the book's default (1/784), 'scale' today's."),
    ] = Gamma.auto,
    train_size: Annotated[
        int | None,
        typer.Option(
            min=10, help="Fit on the first N training images only (a quick look; not cached)."
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", "-f", help="Fit again even if a result is cached.")
    ] = False,
) -> None:
    """Fit scikit-learn's SVC on the training images and score it on the 10,000 test images.

    The book reports 9,435 / 10,000 for SVC() with the defaults of its day
    (gamma='auto'). The full fit takes 10-20 minutes; the result is cached
    beside the data and shown by 'nntui eval' and the dashboard's baselines.
    """
    if not svm_available():
        fail(f"the SVM baseline needs scikit-learn: {INSTALL_HINT}")
    path = ensure_data_with_progress(data, err_console)
    checksum = datastore.data_checksum(path)
    dirs = datastore.baseline_dirs(path)
    out = Console(highlight=False)
    cached = load_svm_results(dirs, checksum).get(gamma.value)
    if cached is not None and train_size is None and not force:
        out.print(_summary(cached) + "  (cached)", markup=False, soft_wrap=True)
        return

    if train_size is None:
        check_cache_writable(dirs, checksum)  # before the fit, not 20 minutes after
    dataset = load_mnist(path)
    training = dataset.training
    if train_size is not None:
        training = Split(training.images[:train_size], training.labels[:train_size])
    result = _fit_in_subprocess(training, dataset.test, gamma.value)
    out.print(_summary(result), markup=False, soft_wrap=True)
    if train_size is None:
        try:
            written = save_svm_result(dirs, checksum, result)
        except OSError as exc:
            print_error(f"could not cache the result ({exc})")
            raise typer.Exit(1) from None
        err_console.print(f"cached in {written}", style="dim", markup=False)


def _summary(r: SvmResult) -> str:
    book = " (the book: 9435 / 10000)" if r.gamma == "auto" else ""
    return (
        f"SVC(gamma='{r.gamma}') on {r.train_size:,} images: {r.correct} / {r.total} "
        f"({100 * r.accuracy:.2f}%) in {duration(r.seconds)}{book}"
    )


def _fit_child(
    conn: Connection, training: Split, evaluation: Split, gamma: str, line: Lifeline | None
) -> None:
    """The child's entry point: fit, send the result (or the error) back, exit."""
    # Dies with the parent, whatever kills it: a fit left to init would run for half an hour.
    if line is not None:
        line.hold()
    # The parent decides what Ctrl-C does; a KeyboardInterrupt here would only
    # print a traceback from a process that is about to be killed anyway.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The parent's handlers, inherited by fork, are Python code that cannot run while
    # libsvm holds the GIL: the kernel's own action ends the fit at once instead.
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_DFL)
    try:
        conn.send(("ok", fit_and_score(training, evaluation, gamma).to_json()))
    except Exception as exc:  # reported by the parent as one line
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


def _fit_in_subprocess(training: Split, evaluation: Split, gamma: str) -> SvmResult:
    methods = multiprocessing.get_all_start_methods()
    # fork hands the arrays over without pickling 150 MB; spawn elsewhere.
    forking = "fork" in methods
    ctx: Any = multiprocessing.get_context("fork" if forking else "spawn")
    receive, send = ctx.Pipe(duplex=False)
    line = Lifeline() if forking else None  # its descriptors mean nothing to a spawned child
    child = ctx.Process(
        target=_fit_child,
        args=(send, training, evaluation, gamma, line),
        name="nntui-svm",
        daemon=True,
    )
    label = f"fitting SVC(gamma='{gamma}') on {len(training):,} training images"
    with _sigterm_raises():
        # Started with Ctrl-C ignored, which it inherits (forked or spawned): a terminal's
        # Ctrl-C reaches the whole process group, and what it does is the parent's to say.
        # (The child ignores it too as it starts; by then a forked one could be hit already.)
        on_sigint = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            child.start()
        finally:
            signal.signal(signal.SIGINT, on_sigint)
        send.close()
        if line is not None:
            line.release()
        try:
            message = _wait(child, receive, label)
        except _Terminated as stop:
            print_error(f"{stop.word}: the fit was stopped")
            raise typer.Exit(EXIT_SIGNAL.get(stop.signum, EXIT_SIGTERM)) from None
        except KeyboardInterrupt:
            print_error("interrupted: the fit was stopped")
            raise typer.Exit(EXIT_SIGINT) from None
        finally:
            if child.is_alive():
                child.kill()
            child.join()
            if line is not None:
                line.close()
    if message is None:
        fail(f"the SVM fit stopped unexpectedly (exit code {child.exitcode})", 1)
    status, payload = message
    if status != "ok":
        fail(f"the SVM fit failed: {payload}", 1)
    return SvmResult.from_json(payload)


def _wait(child: Any, receive: Connection, label: str) -> tuple[str, Any] | None:
    start = time.monotonic()
    if err_console.is_terminal:
        with err_console.status(label) as status:
            while not receive.poll(0.25):
                if not child.is_alive() and not receive.poll(0):
                    return None
                elapsed = duration(time.monotonic() - start)
                status.update(f"{label}: {elapsed} (Ctrl-C stops)")
            return _receive(receive)
    # Piped: a line to start, then one now and then, so a log shows it is alive.
    print(f"{label} (process {child.pid}; Ctrl-C stops)", file=sys.stderr, flush=True)
    last = start
    while not receive.poll(0.25):
        if not child.is_alive() and not receive.poll(0):
            return None
        now = time.monotonic()
        if now - last >= PLAIN_EVERY_SECONDS:
            print(f"still fitting: {duration(now - start)}", file=sys.stderr, flush=True)
            last = now
    return _receive(receive)


def _receive(receive: Connection) -> tuple[str, Any] | None:
    try:
        return receive.recv()
    except EOFError:
        return None


@contextlib.contextmanager
def _sigterm_raises() -> Iterator[None]:
    def handler(signum: int, frame: object) -> None:
        raise _Terminated(signum)

    previous = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for signum, before in previous.items():
            signal.signal(signum, before)


def book_svm_line(dirs: list[Path], checksum: str | None, total: int = 10_000) -> str:
    """One line on the SVM baseline: the cached figure(s), else the book's, marked as such."""
    results = load_svm_results(dirs, checksum) if checksum else {}
    parts = []
    for gamma in ("auto", "scale"):
        r = results.get(gamma)
        if r is not None and r.total == total:
            book = ", the book's setting" if gamma == "auto" else ", today's default"
            parts.append(f"SVM (gamma='{gamma}'{book}) {r.correct} / {r.total}")
    if parts:
        return "; ".join(parts)
    return f"SVM {BOOK_SVM_CORRECT} / 10000 (the book's figure, not reproduced here)"

"""`nntui data`: download, inspect and import the MNIST data, with a Rich progress bar.

The work happens in `nntui.data.datastore` and `nntui.data.download`; this module only
turns their progress events into a bar and their `DataError`s into one line
on stderr and exit code 2.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from nntui.cli.console import EXIT_USAGE, err_console, print_error
from nntui.data import cache, datastore
from nntui.data.download import DEFAULT_TIMEOUT, Progress, download
from nntui.data.mnist import find_in_dir
from nntui.engine.dataset import MnistData
from nntui.engine.errors import DataError

if TYPE_CHECKING:  # rich.progress is imported only once a download starts
    from rich.progress import Progress as ProgressBar
    from rich.progress import TaskID

data_app = typer.Typer(
    name="data",
    help="Download, inspect and import the MNIST data nntui trains on.",
    context_settings={"help_option_names": ["-h", "--help"]},
    no_args_is_help=True,
)


class DownloadView:
    """Shows the downloader's `Progress` events as a Rich progress bar on `console`.

    Use as a context manager and pass it as `on_progress`; the bar appears only
    if a download actually starts, and is stopped on exit even after an error.
    """

    def __init__(self, console: Console) -> None:
        self.console = console
        self._bar: ProgressBar | None = None
        self._tasks: dict[tuple[str, str], TaskID] = {}

    def __enter__(self) -> DownloadView:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop()

    def __call__(self, event: Progress) -> None:
        if event.status == "downloading":
            self._advance(event)
        elif event.status == "failed":
            self._drop_tasks(event.source)
            self._print(f"✗ {event.message}", "yellow")
        elif event.status == "done":
            self._stop()
            self._print(f"✓ {event.message}", "green")

    def _advance(self, event: Progress) -> None:
        bar = self._start()
        key = (event.source, event.file)
        if key not in self._tasks:
            if not any(source == event.source for source, _ in self._tasks):
                self._print(f"downloading from {event.source}", "")
            # A step of unknown size (pip's run) is over once the next file starts.
            for (source, _), task in list(self._tasks.items()):
                if source == event.source and bar.tasks[task].total is None:
                    bar.update(task, visible=False)
            self._tasks[key] = bar.add_task(event.file or event.source, total=event.total)
        bar.update(self._tasks[key], completed=event.done, total=event.total)

    def _start(self) -> ProgressBar:
        if self._bar is None:
            from rich.progress import (
                BarColumn,
                DownloadColumn,
                SpinnerColumn,
                TextColumn,
                TimeRemainingColumn,
                TransferSpeedColumn,
            )
            from rich.progress import Progress as ProgressBar

            self._bar = ProgressBar(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(),  # pulses while the total is unknown
                DownloadColumn(),
                TransferSpeedColumn(),
                TimeRemainingColumn(),
                console=self.console,
            )
            self._bar.start()
        return self._bar

    def _drop_tasks(self, source: str) -> None:
        for key in [k for k in self._tasks if k[0] == source]:
            if self._bar is not None:
                self._bar.remove_task(self._tasks[key])
            del self._tasks[key]

    def _stop(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
            self._tasks.clear()

    def _print(self, text: str, style: str) -> None:
        # Through the bar's console so lines land above a live bar, not through it.
        self.console.print(text, style=style or None, markup=False, highlight=False, soft_wrap=True)


def ensure_data_with_progress(explicit: Path | None, console: Console | None = None) -> Path:
    """Find the data like `datastore.ensure_data`, downloading it with a progress bar if needed.

    Raises `DataError`; the caller decides how to report it.
    """
    with DownloadView(console or err_console) as view:
        return datastore.ensure_data(explicit, on_progress=view)


def load_data_with_progress(explicit: Path | None, console: Console | None = None) -> MnistData:
    """`ensure_data_with_progress`, then load the data through the decoded-data cache.

    A cache that is damaged or cannot be written is said in one line on `console`.
    """
    out = console or err_console

    def notice(text: str) -> None:
        out.print(f"nntui: note: {' '.join(text.split())}", markup=False, soft_wrap=True)

    return cache.load(ensure_data_with_progress(explicit, out), on_notice=notice)


@contextlib.contextmanager
def _exit_on_data_error() -> Iterator[None]:
    # The same one line and exit code as the rest of the CLI, also when this
    # sub-app runs on its own (as in tests) without nntui's command group.
    try:
        yield
    except DataError as exc:
        print_error(str(exc))
        raise typer.Exit(EXIT_USAGE) from None


def _say(text: str) -> None:
    Console().print(text, markup=False, highlight=False, soft_wrap=True)


@data_app.command("download")
def download_(
    dest: Annotated[
        Path | None,
        typer.Option(
            "--dest", help="Directory to download into (default: nntui's data directory)."
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", "-f", help="Download again even if the data is there.")
    ] = False,
    timeout: Annotated[
        float,
        typer.Option(help="Seconds to wait for a connection, or for more data.", min=0.1),
    ] = DEFAULT_TIMEOUT,
) -> None:
    """Download MNIST, trying the book's file first and falling back to other sources.

    Each file is checked against its published checksum before it is kept.

    Example: nntui data download --dest ~/mnist
    """
    target = dest.expanduser() if dest is not None else datastore.data_dir()
    with _exit_on_data_error():
        existing = find_in_dir(target) if target.is_dir() else None
        if existing is not None and not force:
            _say(f"already downloaded: {existing} (use --force to download again)")
            return
        with DownloadView(err_console) as view:
            path = download(target, timeout=timeout, on_progress=view)
    _say(str(path))


# The data a command looks at: a file or directory given, else the one nntui would use.
DataPathArgument = Annotated[
    Path | None,
    typer.Argument(
        help="A data file or directory (default: the data nntui would use).",
        show_default=False,
    ),
]


def _find_or_explain(path: Path | None, what_then: str) -> Path:
    """The data at ``path`` (or nntui's own); a `DataError` ending in ``what_then`` if none."""
    found = datastore.find_data(path)
    if found is None:
        raise DataError(
            f"no MNIST data in {datastore.data_dir()} and NNTUI_DATA is not set: {what_then}"
        )
    return found


@data_app.command("info")
def info(
    path: DataPathArgument = None,
) -> None:
    """Check a dataset and show its format, size, checksums and split sizes.

    Example: nntui data info ~/Downloads/mnist.pkl.gz
    """
    with _exit_on_data_error():
        found = _find_or_explain(path, "run `nntui data download` or `nntui data import PATH`")
        facts = datastore.data_info(found)
        cached = cache.status(found)
    table = Table(title="MNIST data", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    table.add_row("path", str(facts.path))
    table.add_row("format", facts.format.description)
    table.add_row("size", f"{facts.size:,} bytes")
    for name, digest in facts.sha256.items():
        table.add_row(f"sha256 {name}" if len(facts.sha256) > 1 else "sha256", digest)
    table.add_row("book's exact file", "yes" if facts.is_book_file else "no")
    for split, count in facts.counts.items():
        table.add_row(split, f"{count:,} images")
    table.add_row("cache", str(cached.directory))
    if cached.valid:
        table.add_row("cache state", f"valid, {cached.size:,} bytes in {len(cached.files)} files")
    else:
        table.add_row("cache state", f"not used: {cached.reason}")
    Console().print(table)


@data_app.command("clear-cache")
def clear_cache(
    path: DataPathArgument = None,
) -> None:
    """Remove the decoded copy of the data that makes nntui start fast; the data itself stays.

    The next start decodes the data again and rewrites the cache.

    Example: nntui data clear-cache
    """
    with _exit_on_data_error():
        found = _find_or_explain(path, "nothing is cached")
        removed = cache.clear(found)
    size_note = f"{len(removed)} file{'s' if len(removed) != 1 else ''}"
    _say(f"removed the cache of {found} ({size_note})" if removed else f"no cache of {found}")


@data_app.command("import")
def import_(
    path: Annotated[
        Path,
        typer.Argument(
            help="mnist.pkl.gz, mnist.npz, or the IDX files (their directory or one of them).",
            show_default=False,
        ),
    ],
    force: Annotated[
        bool,
        typer.Option(
            "--force", "-f", help="Import data that is not MNIST-shaped (60,000 + 10,000 images)."
        ),
    ] = False,
) -> None:
    """Check a MNIST file you downloaded yourself and copy it into nntui's data directory.

    The copy is checked byte for byte and loaded before it replaces anything, so
    a good cached copy is never replaced by a bad one; data that is not
    MNIST-shaped is refused unless --force.

    Example: nntui data import ~/Downloads/mnist.pkl.gz
    """
    with _exit_on_data_error():
        done = datastore.import_data(path, force=force)
    if done.replaced is not None and done.replaced != done.path:
        was = _counts(done.replaced_counts) if done.replaced_counts else "did not load"
        _say(f"replaced {done.replaced} ({was})")
    elif done.replaced is not None:
        was = _counts(done.replaced_counts) if done.replaced_counts else "did not load"
        _say(f"replaced the previous copy ({was})")
    _say(f"imported {path} -> {done.path} ({done.format.description}, {_counts(done.counts)})")


def _counts(counts: tuple[int, int, int]) -> str:
    training, validation, test = counts
    return f"{training:,} training, {validation:,} validation, {test:,} test images"

"""What the dashboard fetches in threads besides training: the data, and the baselines.

Each function runs in a Textual thread worker, touches no widget and reports
only through ``post``, with the messages of `nntui.tui.messages` (`Data`,
`Baselines`). Widgets only show what these find.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from textual.dom import DOMNode
from textual.message import Message
from textual.worker import NoActiveWorker, get_current_worker

from nntui.data import datastore
from nntui.data.download import Progress
from nntui.engine.errors import NntuiError
from nntui.store.baselines import load_svm_results
from nntui.tui.messages import Baselines, Data
from nntui.tui.model.session import Session

Post = Callable[[Message], object]


class DownloadCancelled(Exception):
    """The app is closing: stop downloading at the next chunk."""


def in_thread(node: DOMNode, job: Callable[[], object], group: str) -> None:
    """Run ``job`` in a thread worker of ``node``; a new one of ``group`` replaces the last."""
    node.run_worker(job, thread=True, exclusive=True, exit_on_error=False, group=group)


def _cancelled() -> bool:
    try:
        return get_current_worker().is_cancelled
    except NoActiveWorker:  # called directly (tests): never cancelled
        return False


def load_data(path: Path | None, post: Post) -> None:
    """Find, download if need be, and load MNIST; post `Data.Loaded` or `Data.Failed`.

    The downloader's progress is posted as `Data.Progress`. Cancelled (the app is
    closing), it stops at the next chunk and posts nothing more.
    """

    def on_progress(progress: Progress) -> None:
        if _cancelled():
            raise DownloadCancelled
        post(Data.Progress(progress))

    def on_notice(text: str) -> None:
        # A damaged or unwritable decoded-data cache: a note in the data panel, as a
        # source that failed is, rather than a warning printed across the screen.
        on_progress(Progress(source="cache", status="failed", message=text))

    try:
        data = datastore.load_data(path, on_progress=on_progress, on_notice=on_notice)
    except DownloadCancelled:
        return
    except NntuiError as exc:
        post(Data.Failed(str(exc)))
        return
    except Exception as exc:  # a bug or an odd file: say it in the panel, keep the app up
        post(Data.Failed(repr(exc)))
        return
    post(Data.Loaded(data))


def baselines(session: Session, post: Post) -> None:
    """Compute ``session``'s baselines (a tenth of a second or more) and post them."""
    post(Baselines.Computed(session, session.baselines()))


def svm_result(data_path: Path | None, post: Post) -> None:
    """Look for the SVM's result cached beside the data (by a checksum of the file)."""
    path = datastore.find_data(data_path)
    if path is None:
        return
    results = load_svm_results(datastore.baseline_dirs(path), datastore.data_checksum(path))
    book = results.get("auto")
    if book is not None and book.total == 10_000:
        post(Baselines.SvmFound(book.correct))

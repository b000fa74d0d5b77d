"""What happens before there is data: looking for MNIST, downloading it, or why that failed.

The panel runs the loading itself, in a thread worker that only posts
messages, and tells the screen the outcome: `DataPanel.Loaded` with the data
or `DataPanel.Failed` with the reason. "Try again" starts another attempt.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Button, ProgressBar, Static
from textual.worker import Worker, WorkerState, get_current_worker

from nntui.data import download
from nntui.engine.dataset import MnistData
from nntui.engine.errors import NntuiError
from nntui.tui.worker import load_data


class DownloadCancelled(Exception):
    """The app is closing: stop downloading at the next chunk."""


def megabytes(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


class DataPanel(Vertical):
    """A status line, a download bar, notes on sources that failed, and the final error if any."""

    @dataclass
    class Progress(Message, bubble=False):
        """From the loading thread: the downloader tried a source, got bytes, or failed over."""

        progress: download.Progress

        def can_replace(self, message: Message) -> bool:
            # Byte counts of the same file supersede each other; "trying" or "failed" do not.
            return (
                isinstance(message, DataPanel.Progress)
                and message.progress.status == self.progress.status == "downloading"
                and message.progress.file == self.progress.file
            )

    @dataclass
    class Loaded(Message):
        """The data is in memory."""

        data: MnistData

    @dataclass
    class Failed(Message):
        """Loading gave up; ``message`` says why (the panel shows it too)."""

        message: str

    class Retry(Message):
        """Try again was pressed: the panel is looking for the data once more."""

    _notes: list[str]

    def __init__(self, data_path: Path | None = None, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._data_path = data_path  # --data, if given

    def load(self) -> None:
        """Look for MNIST (downloading it if need be) and load it, in a thread."""
        self.searching()
        self._load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="data", name="data")
    def _load(self) -> MnistData:
        worker = get_current_worker()

        def post(progress: download.Progress) -> None:
            if worker.is_cancelled:
                raise DownloadCancelled
            self.post_message(DataPanel.Progress(progress))

        return load_data(self._data_path, post)

    @on(Progress)
    def _progress(self, message: DataPanel.Progress) -> None:
        progress = message.progress
        if progress.status == "trying":
            self.trying(progress.message)
        elif progress.status == "downloading":
            self.downloading(progress.source, progress.file, progress.done, progress.total)
        elif progress.status == "failed":
            self.failed_source(progress.message)
        elif progress.status == "done":
            self.loading(progress.message)

    @on(Worker.StateChanged)
    def _worker_state(self, event: Worker.StateChanged) -> None:
        worker, state = event.worker, event.state
        event.stop()
        if worker.name != "data" or state not in (WorkerState.SUCCESS, WorkerState.ERROR):
            return
        if state == WorkerState.SUCCESS:
            self.post_message(DataPanel.Loaded(worker.result))
        else:
            error = worker.error
            message = str(error) if isinstance(error, NntuiError) else repr(error)
            self.failed(message)
            self.post_message(DataPanel.Failed(message))

    @on(Button.Pressed, "#retry")
    def _retry(self, event: Button.Pressed) -> None:
        event.stop()
        self.post_message(DataPanel.Retry())
        self.load()

    def compose(self) -> ComposeResult:
        yield Static("Looking for MNIST…", id="data-status")
        yield ProgressBar(total=None, show_eta=False, id="data-bar")
        yield Static("", id="data-notes")
        yield Static("", id="data-error")
        yield Static(
            "To use a file you have: nntui --data PATH, or set NNTUI_DATA=PATH, or "
            "nntui data import PATH. To fetch it: nntui data download. Then press Try again.",
            id="data-fix",
        )
        yield Button("Try again", id="retry", variant="primary", compact=True)

    def on_mount(self) -> None:
        self.border_title = "MNIST data"
        self.searching()

    def searching(self) -> None:
        """Looking in --data, $NNTUI_DATA and the data directory, then loading."""
        self._status("Looking for MNIST (--data, $NNTUI_DATA, the data directory) and loading it…")
        self._hide_bar()
        self._notes = []
        self.query_one("#data-notes", Static).update("")
        self._error("")

    def trying(self, message: str) -> None:
        self._status(f"No MNIST file here yet: downloading it. {message[:1].upper()}{message[1:]}…")

    def downloading(self, source: str, file: str, done: int, total: int | None) -> None:
        bar = self.query_one("#data-bar", ProgressBar)
        bar.display = True
        bar.update(total=total, progress=done)
        size = f"{megabytes(done)} of {megabytes(total)}" if total else megabytes(done)
        self._status(f"Downloading {file or 'MNIST'} from {source}: {size}")

    def failed_source(self, message: str) -> None:
        self._notes.append(f"✗ {message}")
        self.query_one("#data-notes", Static).update("\n".join(self._notes))

    def loading(self, message: str) -> None:
        self._hide_bar()
        self._status(f"{message[:1].upper()}{message[1:]}; loading it…")

    def failed(self, message: str) -> None:
        """Loading gave up: show why, and what to do about it."""
        self._hide_bar()
        self._status("Could not load MNIST.")
        self._error(message)

    def _hide_bar(self) -> None:
        """Hide the download bar, and make it determinate so that it stops.

        A bar of unknown total (a download without a length) animates: it asks
        for a redraw 15 times a second, hidden or not, and each wakes the UI
        thread, which then takes the GIL from the trainer.
        """
        bar = self.query_one("#data-bar", ProgressBar)
        bar.display = False
        bar.update(total=1, progress=0)

    def _status(self, text: str) -> None:
        self.query_one("#data-status", Static).update(text)

    def _error(self, text: str) -> None:
        self.query_one("#data-error", Static).update(text)
        self.query_one("#data-fix").display = bool(text)
        self.query_one("#retry").display = bool(text)

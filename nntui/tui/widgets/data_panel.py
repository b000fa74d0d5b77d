"""What happens before there is data: looking for MNIST, downloading it, or why that failed.

The panel only shows: the screen loads the data (`nntui.tui.fetch.load_data`) and hands
the loader's progress to `show_progress`. "Try again" posts `DataPanel.Retry`.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Button, ProgressBar, Static

from nntui.data import download


def megabytes(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


class DataPanel(Vertical):
    """A status line, a download bar, notes on sources that failed, and the final error if any."""

    class Retry(Message):
        """Try again was pressed: the panel is looking for the data once more."""

    _notes: list[str]

    def show_progress(self, progress: download.Progress) -> None:
        """What the loader reports: a source tried, bytes downloaded, a source failed, done."""
        if progress.status == "trying":
            self.trying(progress.message)
        elif progress.status == "downloading":
            self.downloading(progress.source, progress.file, progress.done, progress.total)
        elif progress.status == "failed":
            self.failed_source(progress.message)
        elif progress.status == "done":
            self.reading(progress.message)

    @on(Button.Pressed, "#retry")
    def _retry(self, event: Button.Pressed) -> None:
        event.stop()
        self.searching()
        self.post_message(DataPanel.Retry())

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

    def reading(self, message: str) -> None:
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

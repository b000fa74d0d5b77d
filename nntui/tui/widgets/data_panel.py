"""What happens before there is data: looking for MNIST, downloading it, or why that failed."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Button, ProgressBar, Static


def megabytes(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


class DataPanel(Vertical):
    """A status line, a download bar, notes on sources that failed, and the final error if any."""

    _notes: list[str]

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
        self.query_one("#data-bar").display = False
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
        self.query_one("#data-bar").display = False
        self._status(f"{message[:1].upper()}{message[1:]}; loading it…")

    def failed(self, message: str) -> None:
        """Loading gave up: show why, and what to do about it."""
        self.query_one("#data-bar").display = False
        self._status("Could not load MNIST.")
        self._error(message)

    def _status(self, text: str) -> None:
        self.query_one("#data-status", Static).update(text)

    def _error(self, text: str) -> None:
        self.query_one("#data-error", Static).update(text)
        self.query_one("#data-fix").display = bool(text)
        self.query_one("#retry").display = bool(text)

"""The base of the look-inside screens: follow a `Subject` and redraw when it changes.

Each screen polls `Subject.version()` `POLL_INTERVAL` apart while it is the
current screen, and once more when it comes back to the top, so it shows the
network as of the latest epoch without the app forwarding any message.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.screen import Screen

from nntui.tui.model.inside import Subject, as_subject
from nntui.tui.model.session import Session

POLL_INTERVAL = 0.5  # seconds between two looks at the subject
CSS = Path(__file__).resolve().parent.parent / "inside.tcss"
_NOTHING = object()


class InsideScreen(Screen[None]):
    """A screen about one network; ``escape`` goes back."""

    CSS_PATH = CSS
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "app.pop_screen", "Back")]

    def __init__(self, source: Session | Subject) -> None:
        super().__init__()
        self.subject = as_subject(source)
        self._seen: object = _NOTHING  # the version last drawn

    def on_mount(self) -> None:
        self.set_interval(POLL_INTERVAL, self.poll)
        self.poll()

    def on_screen_resume(self) -> None:
        self.poll()

    def poll(self) -> None:
        """Redraw if the subject changed since the last look (and this screen is on top)."""
        if not self.is_current and self._seen is not _NOTHING:
            return
        version = self.subject.version()
        if version != self._seen:
            self._seen = version
            self.update_view()
        self.tick()

    def update_view(self) -> None:
        """Read the subject again and redraw."""

    def tick(self) -> None:
        """Called at every poll, changed or not."""

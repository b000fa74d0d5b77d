"""The keys that work now, on the bottom line: Textual's compact `Footer`, as one widget.

Textual's `Footer` builds a widget per key again whenever the bindings may have
changed (a run starts or pauses, a step ends, the focus moves, the terminal is
resized) and lays the screen out twice. On a slow 2-core machine that is 25-40 ms
of the UI thread at the start of every run, and a key pressed meanwhile waits
for all of it. Here the keys are one line of text: when they change, only that
line is drawn again; when they do not, nothing is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.screen import Screen
from textual.widget import Widget


@dataclass(frozen=True)
class ShownKey:
    """One key in the bar: what it is called, what it does, where it is drawn."""

    key: str  # the key's name, as a binding names it ("space", "full_stop")
    display: str  # as the bar shows it ("space", ".")
    description: str
    enabled: bool  # False: shown dimmed, it does nothing in this state
    start: int  # the columns it takes, start inclusive and end exclusive
    end: int


class KeyBar(Widget):
    """The screen's shown bindings, left to right, each ``key description``.

    A key is listed once per action, as `Footer` does; a key whose
    ``check_action`` says None is dimmed, one that says False is left out.
    Clicking a key presses it.
    """

    ALLOW_SELECT = False
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "key-bar--key",
        "key-bar--description",
        "key-bar--hover",
    }
    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        text-wrap: nowrap;
        color: $footer-foreground;
        background: $footer-background;
        .key-bar--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        .key-bar--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
        .key-bar--hover {
            background: $block-hover-background;
        }
    }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.keys: tuple[ShownKey, ...] = ()
        """The keys as drawn, left to right."""
        self._hovered: ShownKey | None = None  # under the mouse: highlighted, as a button

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self._bindings_changed(self.screen)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen[Any]) -> None:
        keys = self._shown_keys(screen)
        if keys != self.keys:
            self.keys = keys
            self._hovered = None
            self.refresh()

    def _shown_keys(self, screen: Screen[Any]) -> tuple[ShownKey, ...]:
        shown: list[ShownKey] = []
        actions: set[str] = set()
        column = 0
        for _node, binding, enabled, _tooltip in screen.active_bindings.values():
            if not binding.show or binding.action in actions:
                continue  # hidden, or another key for an action already shown
            actions.add(binding.action)
            display = self.app.get_key_display(binding)
            end = column + cell_len(display) + 1 + cell_len(binding.description)
            shown.append(ShownKey(binding.key, display, binding.description, enabled, column, end))
            column = end + 1  # a space between two keys
        return tuple(shown)

    def render(self) -> Text:
        key_style = self.get_component_rich_style("key-bar--key")
        description_style = self.get_component_rich_style("key-bar--description")
        text = Text(no_wrap=True, overflow="crop", end="")
        for shown in self.keys:
            start = len(text)
            text.append(shown.display, key_style)
            text.append(" ")
            text.append(shown.description, description_style)
            if not shown.enabled:
                text.stylize("dim", start)
            if shown == self._hovered:
                text.stylize(self.get_component_rich_style("key-bar--hover"), start)
            text.append(" ")
        text.stylize_before(self.rich_style)  # the bar's colours under the keys' own
        return text

    def key_at(self, x: int) -> ShownKey | None:
        """The key drawn at column ``x``, if any."""
        for shown in self.keys:
            if shown.start <= x < shown.end:
                return shown
        return None

    def on_mouse_move(self, event: events.MouseMove) -> None:
        self._hover(self.key_at(event.x))

    def on_leave(self, event: events.Leave) -> None:
        self._hover(None)

    def _hover(self, shown: ShownKey | None) -> None:
        if shown != self._hovered:
            self._hovered = shown
            self.refresh()

    def on_click(self, event: events.Click) -> None:
        shown = self.key_at(event.x)
        if shown is None:
            return
        event.stop()
        if shown.enabled:
            self.app.simulate_key(shown.key)
        else:
            self.app.bell()

"""The key bar: the keys that work in this state, dimmed or hidden as `check_action` says."""

from __future__ import annotations

from typing import ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Static

from nntui.tui.widgets.key_bar import KeyBar


class Host(App[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "count('a')", "Add"),
        Binding("plus", "count('plus')", "More"),
        Binding("b", "count('b')", "Both"),  # two keys for one action: only the first shows
        Binding("c", "count('b')", "Both"),
        Binding("h", "count('h')", "Hidden", show=False),
        Binding("g", "count('g')", "Greyed"),
        Binding("o", "count('o')", "Off"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.pressed: list[str] = []
        self.bells = 0
        self.off = True

    def compose(self) -> ComposeResult:
        yield Static("body")
        yield KeyBar()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if parameters == ("g",):
            return None  # shown, greyed out
        if parameters == ("o",):
            return not self.off  # hidden while off
        return True

    def action_count(self, key: str) -> None:
        self.pressed.append(key)

    def bell(self) -> None:
        self.bells += 1


async def test_the_bar_lists_each_shown_action_once_with_its_columns() -> None:
    app = Host()
    async with app.run_test(size=(60, 5)) as pilot:
        await pilot.pause()
        bar = app.query_one(KeyBar)
        shown = [(k.display, k.description, k.enabled) for k in bar.keys]
        assert shown == [
            ("a", "Add", True),
            ("+", "More", True),
            ("b", "Both", True),
            ("g", "Greyed", False),
        ]
        text = "".join(segment.text for segment in bar.render_line(0))
        for key in bar.keys:
            assert text[key.start : key.end] == f"{key.display} {key.description}"
        app.off = False
        app.screen.refresh_bindings()
        await pilot.pause()
        assert [k.description for k in bar.keys][-1] == "Off"


async def test_clicking_a_key_presses_it_and_a_greyed_one_rings_the_bell() -> None:
    app = Host()
    async with app.run_test(size=(60, 5)) as pilot:
        await pilot.pause()
        bar = app.query_one(KeyBar)
        keys = {k.description: k for k in bar.keys}
        await pilot.click(KeyBar, offset=(keys["More"].start, 0))
        await pilot.click(KeyBar, offset=(keys["Both"].end - 1, 0))
        await pilot.pause()
        assert app.pressed == ["plus", "b"]
        await pilot.click(KeyBar, offset=(keys["Greyed"].start + 2, 0))
        await pilot.click(KeyBar, offset=(keys["Add"].end, 0))  # the space between two keys
        await pilot.pause()
        assert app.pressed == ["plus", "b"]
        assert app.bells == 1


async def test_the_key_under_the_mouse_is_highlighted() -> None:
    app = Host()
    async with app.run_test(size=(60, 5)) as pilot:
        await pilot.pause()
        bar = app.query_one(KeyBar)
        more = next(k for k in bar.keys if k.description == "More")
        hover = bar.get_component_rich_style("key-bar--hover").bgcolor

        def highlighted() -> set[int]:
            columns, x = set(), 0
            for segment in bar.render_line(0):
                if segment.style is not None and segment.style.bgcolor == hover:
                    columns.update(range(x, x + len(segment.text)))
                x += len(segment.text)
            return columns

        assert highlighted() == set()
        await pilot.hover(KeyBar, offset=(more.start + 1, 0))
        await pilot.pause()
        assert highlighted() == set(range(more.start, more.end))
        await pilot.hover(Static)
        await pilot.pause()
        assert highlighted() == set()

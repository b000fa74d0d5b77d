"""A live change is applied once: the value the trainer keeps comes back without an echo."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace

import pytest
from textual.app import App, ComposeResult
from textual.message import Message
from textual.pilot import Pilot
from textual.widgets import Input

from nntui.engine.config import TrainConfig
from nntui.tui.widgets import params as params_module
from nntui.tui.widgets.params import HyperParams


class Panel(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.heard: list[Message] = []

    def compose(self) -> ComposeResult:
        yield HyperParams(TrainConfig(), cursor_blink=False, speeds=False)

    def on_hyper_params_changed(self, message: HyperParams.Changed) -> None:
        self.heard.append(message)

    def on_hyper_params_live_setting(self, message: HyperParams.LiveSetting) -> None:
        self.heard.append(message)


@asynccontextmanager
async def during_a_run() -> AsyncIterator[tuple[Panel, Pilot[None], HyperParams]]:
    """The panel as a run locks it: only the live settings editable; nothing heard yet."""
    app = Panel()
    async with app.run_test() as pilot:
        await pilot.pause()
        params = app.query_one(HyperParams)
        params.running = True
        await pilot.pause()
        app.heard.clear()
        yield app, pilot, params


async def test_the_value_the_trainer_kept_is_shown_without_posting_anything() -> None:
    async with during_a_run() as (app, pilot, params):
        params.show_applied("epochs", 7)
        await pilot.pause()
        assert app.query_one("#epochs", Input).value == "7"
        assert app.heard == []  # neither Changed nor LiveSetting: nothing echoes back
        config, error, _ = params.read()
        assert error is None and config is not None and config.epochs == 7


async def test_a_live_setting_is_posted_once_when_the_field_is_left() -> None:
    async with during_a_run() as (app, pilot, params):
        params.focus_field("eta")
        eta = app.query_one("#eta", Input)
        eta.value = ""
        await pilot.press("0", ".", "5", "enter")
        await pilot.pause()
        live = [m for m in app.heard if isinstance(m, HyperParams.LiveSetting)]
        assert [(m.name, m.value) for m in live] == [("eta", 0.5)]
        params.focus_field("eta")
        await pilot.press("escape")  # nothing new typed: leaving posts nothing more
        app.set_focus(None)
        await pilot.pause()
        assert len([m for m in app.heard if isinstance(m, HyperParams.LiveSetting)]) == 1


async def test_typing_checks_only_the_field_typed_in(monkeypatch: pytest.MonkeyPatch) -> None:
    """A key in eta's input parses eta, not all six settings again."""
    parsed: list[str] = []

    def counted(field: params_module.Field) -> params_module.Field:
        def parse(text: str, values: dict) -> object:
            parsed.append(field.name)
            return field.parse(text, values)

        return replace(field, parse=parse)

    monkeypatch.setattr(params_module, "FIELDS", tuple(map(counted, params_module.FIELDS)))
    app = Panel()
    async with app.run_test() as pilot:
        await pilot.pause()
        app.query_one(HyperParams).focus_field("eta")
        await pilot.pause()
        parsed.clear()
        await pilot.press("1")
        await pilot.pause()
    assert parsed == ["eta"]

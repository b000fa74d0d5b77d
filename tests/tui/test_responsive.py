"""Keys come first while training: the worker gives way to the UI while it answers one."""

from __future__ import annotations

import gc
import sys
import threading

import pytest

from nntui.engine.config import TrainConfig
from nntui.engine.dataset import MnistData
from nntui.engine.training import Trainer
from nntui.tui import worker as tui_worker
from nntui.tui.app import NntuiApp
from tests.conftest import Dashboard
from tests.pilot import SHORT, ready, stop_run


class _RecordingEvent(threading.Event):
    """Clear until `busy_events` events have passed; records how often the trainer waited."""

    def __init__(self, busy_events: int) -> None:
        super().__init__()
        self.busy = busy_events
        self.waits: list[float | None] = []

    def is_set(self) -> bool:
        self.busy -= 1
        return self.busy < 0

    def wait(self, timeout: float | None = None) -> bool:
        self.waits.append(timeout)
        return True


def test_the_trainer_waits_while_a_key_is_answered(tiny_data: MnistData) -> None:
    trainer = Trainer(tiny_data, TrainConfig(train_size=100, epochs=1, seed=3))
    idle = _RecordingEvent(busy_events=3)
    switch = []
    finished = tui_worker.run_training(
        trainer, lambda m: switch.append(sys.getswitchinterval()), ui_idle=idle
    )
    assert finished is not None and finished.status == "completed"
    assert idle.waits == [tui_worker.GIVE_WAY_MAX] * 3  # bounded: never stuck on the UI
    # Python's GIL switch interval is left alone: a shorter one only cost the UI more CPU.
    assert set(switch) == {sys.getswitchinterval()}


class _NeverDrawn(threading.Event):
    """A UI that never draws the frame: every wait times out (at once, here)."""

    waits = 0

    def wait(self, timeout: float | None = None) -> bool:
        self.waits += 1
        return super().wait(0)


def test_full_collections_are_rarer_only_while_training(tiny_data: MnistData) -> None:
    before = gc.get_threshold()
    trainer = Trainer(tiny_data, TrainConfig(train_size=100, epochs=1, seed=3))
    during = []
    tui_worker.run_training(trainer, lambda m: during.append(gc.get_threshold()))
    assert {t[2] for t in during} == {max(before[2], tui_worker.FULL_GC_EVERY)}
    assert gc.get_threshold() == before


def test_a_ui_that_never_draws_makes_the_trainer_give_way_once_only(tiny_data: MnistData) -> None:
    trainer = Trainer(tiny_data, TrainConfig(train_size=100, epochs=1, seed=3))
    never = _NeverDrawn()  # cleared, as by a key whose frame never comes
    finished = tui_worker.run_training(trainer, lambda m: None, ui_idle=never)
    assert finished is not None and finished.status == "completed"
    assert never.waits == 1 and never.is_set()  # it gave way once, then took the flag back


async def test_a_key_clears_ui_idle_until_its_frame_is_drawn(dashboard: Dashboard) -> None:
    async with dashboard(config=SHORT, deterministic=True) as (app, pilot):
        await pilot.pause()
        assert app.ui_idle.is_set()
        seen = []
        app.screen.action_new_sample = lambda: seen.append(app.ui_idle.is_set())  # type: ignore[method-assign]
        await pilot.press("n")
        await pilot.pause()
        assert seen == [False]  # the handler ran while the trainer would have waited
        assert app.ui_idle.is_set()  # and the frame after it set it again


async def test_a_run_started_without_a_key_still_draws_its_first_frame_first(
    dashboard: Dashboard,
) -> None:
    """A click on Start (or a timer) is not a key: the start itself holds the trainer back."""
    async with dashboard(config=SHORT, deterministic=True) as (app, pilot):
        await pilot.pause()
        screen = app.screen
        held = []
        real_train = screen._train

        def train(trainer, kept):  # type: ignore[no-untyped-def]
            held.append(not app.ui_idle.is_set())  # when the worker is asked to start
            return real_train(trainer, kept)

        screen._train = train  # type: ignore[method-assign]
        screen.action_start()  # as the Start button does: no key event
        assert held == [True]
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.ui_idle.is_set()  # the first frame was drawn and let the trainer go
        assert screen.state == "finished"


async def test_a_click_holds_the_trainer_back_like_a_key(dashboard: Dashboard) -> None:
    async with dashboard(config=SHORT, deterministic=True) as (app, pilot):
        await pilot.pause()
        seen = []
        real = app.hold_training_until_drawn

        def hold() -> None:
            seen.append("hold")
            real()

        app.hold_training_until_drawn = hold  # type: ignore[method-assign]
        await pilot.click("#reset")
        assert seen  # the mouse-down asked for it
        await pilot.pause()
        assert app.ui_idle.is_set()


def _animating(app: NntuiApp) -> list[str]:
    """The widgets, shown or hidden, that ask for a redraw on a timer of their own."""
    return [repr(w) for w in app.screen.query("*") if w.auto_refresh]


async def test_nothing_redraws_on_a_timer_once_the_data_is_loaded(dashboard: Dashboard) -> None:
    """A hidden indeterminate bar still animated 15 times a second, waking the UI thread."""
    from nntui.tui.widgets.data_panel import DataPanel

    async with dashboard(config=SHORT, deterministic=True) as (app, pilot):
        await pilot.pause()
        assert _animating(app) == []
        panel = app.query_one(DataPanel)
        panel.downloading("a mirror", "mnist.pkl.gz", 1000, None)  # no length: it animates
        await pilot.pause()
        assert _animating(app) != []
        panel.reading("found it")
        await pilot.pause()
        assert _animating(app) == []


async def test_a_run_keeps_its_files_from_the_training_thread(
    dashboard: Dashboard, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Creating a run's files syncs them to disk: the first frame and keys must not wait."""
    from nntui.store.runs import RunStore

    on_ui_thread = []
    create = RunStore.create

    def recording_create(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        on_ui_thread.append(threading.current_thread() is threading.main_thread())
        return create(self, *args, **kwargs)

    monkeypatch.setattr(RunStore, "create", recording_create)
    async with dashboard(config=SHORT, deterministic=True) as (app, pilot):
        await pilot.pause()
        await pilot.press("s")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen.state == "finished"
    assert on_ui_thread == [False]
    (run,) = RunStore().list()
    assert run.epochs_done == SHORT.epochs  # kept all the same


async def test_held_panels_take_turns_one_per_progress_message(
    dashboard: Dashboard, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The charts and the gallery take turns: drawn in one frame, they kept a key waiting."""
    from nntui.engine.events import BatchProgress
    from nntui.tui import messages
    from nntui.tui.widgets import throttle

    # No fallback timers: what is tested is the turns taken with the progress messages.
    monkeypatch.setattr(throttle, "HOLD_GRACE", 60.0)
    async with dashboard(config=SHORT, deterministic=True) as (app, pilot):
        await pilot.pause()
        screen = app.screen
        accuracy, cost, digits = screen.views.heavy_panels
        drawn: list[str] = []
        for panel in (accuracy, cost, digits):
            render = panel.render  # called when its content must be drawn anew

            def recording(panel=panel, render=render):  # type: ignore[no-untyped-def]
                drawn.append(type(panel).__name__)
                return render()

            panel.render = recording  # type: ignore[method-assign]
        for panel in screen.views.heavy_panels:
            panel.hold = True  # as while training
        await pilot.pause(throttle.REDRAW_INTERVAL + 0.1)  # every panel is due
        drawn.clear()
        # An epoch ends: the accuracy chart and the gallery ask to be drawn, and wait.
        accuracy.add_point(1, 90.0)
        digits.show_network()
        progress = BatchProgress(
            epoch=2,
            epochs=3,
            images_done=100,
            images_total=500,
            running_cost=0.1,
            images_per_second=1000.0,
            epoch_elapsed=0.1,
            elapsed=1.0,
        )
        turns = []
        for idle in (False, True, True, True, True):
            if idle:
                app.ui_idle.set()
            else:
                app.ui_idle.clear()  # as while a key is answered
            screen.on_training_batch_progress(messages.Training.BatchProgress(progress, ()))
            await pilot.pause()
            turns.append(drawn.copy())
            drawn.clear()
        app.ui_idle.set()
    # None while a key is answered; then one a message, the longest waiting first (the
    # cost chart asked with the first progress message).
    assert turns == [[], ["AccuracyChart"], ["DigitGallery"], ["CostChart"], []]


async def test_a_static_is_laid_out_again_only_when_its_lines_change() -> None:
    """A layout of the screen costs 15-30 ms on a slow machine, keys waiting: only if needed."""
    from textual.app import App, ComposeResult
    from textual.widgets import Static

    from nntui.tui.widgets.text_update import update_text

    class Host(App[None]):
        CSS = "Static { width: 20; min-height: 2; }"

        def compose(self) -> ComposeResult:
            yield Static("Ready: press s to start.")  # two lines at 20 columns

    app = Host()
    async with app.run_test(size=(40, 10)) as pilot:
        await pilot.pause()
        static = app.query_one(Static)
        layouts = []
        refresh = static.refresh

        def recording(*regions, layout=False, **kwargs):  # type: ignore[no-untyped-def]
            layouts.append(layout)
            return refresh(*regions, layout=layout, **kwargs)

        static.refresh = recording  # type: ignore[method-assign]
        update_text(static, "Training…")  # one line, but the min-height keeps two
        assert True not in layouts
        update_text(static, "Stopping after this mini-batch, then saving.")  # three lines
        assert True in layouts
        await pilot.pause()
        assert static.size.height == 3


@pytest.mark.parametrize("key", ["space", "x"])
async def test_starting_pausing_and_stopping_a_run_lay_nothing_out_again(
    dashboard: Dashboard, monkeypatch: pytest.MonkeyPatch, key: str
) -> None:
    """The keys change with the state, but only their line is drawn again.

    Textual's `Footer` composed a widget per key anew and laid the screen out twice,
    25-40 ms on a slow machine while a key pressed meanwhile waited; so did the line
    of seconds per epoch when it appeared at the first epoch's end.
    """
    from textual.widget import Widget

    from nntui.tui.widgets.key_bar import KeyBar
    from tests.pilot import LONG, wait_for

    async with dashboard(config=LONG) as (app, pilot):  # with timings: the seconds per epoch
        screen = await ready(pilot, app)
        await pilot.pause()
        bar = screen.query_one(KeyBar)
        speeds = screen.query_one("#speeds")
        pending = str(speeds.render())
        laid_out: list[str] = []
        refresh = Widget.refresh

        def recording(self, *regions, layout=False, recompose=False, **kwargs):  # type: ignore[no-untyped-def]
            if layout or recompose:
                laid_out.append(f"{type(self).__name__}#{self.id}")
            return refresh(self, *regions, layout=layout, recompose=recompose, **kwargs)

        monkeypatch.setattr(Widget, "refresh", recording)
        before = bar.keys
        await pilot.press("s")
        await wait_for(pilot, lambda: screen.state == "running")
        await wait_for(pilot, lambda: str(speeds.render()) != pending)  # an epoch has ended
        await pilot.pause()
        assert bar.keys != before  # the keys did change: Start became Pause, and so on
        assert "per epoch: matrix" in str(speeds.render())
        await pilot.press(key)
        after = "paused" if key == "space" else "finished"
        await wait_for(pilot, lambda: screen.state == after)
        await pilot.pause()
        assert laid_out == []
        monkeypatch.undo()
        await stop_run(pilot, screen)


@pytest.mark.parametrize(("asked", "expected"), [(None, 120), ("30", 30)])
def test_the_dashboard_draws_up_to_120_frames_a_second_unless_told_otherwise(
    asked: str | None, expected: int
) -> None:
    """Textual reads the rate once, when first imported: in a fresh process, as ``nntui`` runs."""
    import os
    import subprocess

    env = {k: v for k, v in os.environ.items() if k != "TEXTUAL_FPS"}
    if asked is not None:
        env["TEXTUAL_FPS"] = asked
    code = "import nntui.tui.app, textual.screen as s; print(round(1 / s.UPDATE_PERIOD))"
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert int(out.stdout) == expected

"""Keys a person reaches for: space plays and pauses, `t`/`E` go to eta/epochs, the footer fits."""

from __future__ import annotations

from textual.widgets import Input

from nntui.tui.app import NntuiApp
from nntui.tui.widgets.key_bar import KeyBar
from tests.conftest import Dashboard
from tests.pilot import LONG, log_lines, main_screen, ready, stop_run, wait_for

# Slow enough epochs (mini-batches of one, ~20 ms each) to act while the run goes on.
FEW = LONG.with_changes(epochs=4)


def footer(app: NntuiApp) -> list[tuple[str, str, bool]]:
    """(key, label, enabled) of each key in the footer, left to right."""
    return [(k.display, k.description, k.enabled) for k in app.screen.query_one(KeyBar).keys]


async def test_space_starts_pauses_and_resumes(dashboard: Dashboard) -> None:
    async with dashboard(config=LONG, deterministic=True) as (app, pilot):
        screen = await ready(pilot, app)
        await pilot.press("space")
        await wait_for(pilot, lambda: screen.state == "running")
        await pilot.press("space")
        await wait_for(pilot, lambda: screen.state == "paused")
        await pilot.press("space")
        await wait_for(pilot, lambda: screen.state == "running")
        await stop_run(pilot, screen)
        await pilot.press("space")  # again, like Start: the same network trains further
        await wait_for(pilot, lambda: screen.state == "running")
        await stop_run(pilot, screen)


async def test_t_and_shift_e_focus_eta_and_epochs_from_anywhere(dashboard: Dashboard) -> None:
    async with dashboard(config=LONG, deterministic=True) as (app, pilot):
        screen = await ready(pilot, app)
        await pilot.press("t")
        assert isinstance(app.focused, Input) and app.focused.id == "eta"
        await pilot.press("escape")
        assert app.focused is None
        await pilot.press("s")
        await wait_for(pilot, lambda: screen.state == "running")
        await pilot.press("E")
        assert isinstance(app.focused, Input) and app.focused.id == "epochs"
        # The text is selected: typing replaces it.
        await pilot.press(*"9999", "enter")
        assert app.focused is None
        await wait_for(pilot, lambda: screen.trainer is not None and screen.trainer.epochs == 9999)
        await stop_run(pilot, screen)


async def _set_epochs_while_paused(pilot, app: NntuiApp, epochs_from_least: int) -> int:
    screen = main_screen(app)
    # Start and pause in one go (epochs take ~20 ms: a short run could end between two keys).
    screen.action_start()
    screen.action_pause()
    assert screen.state == "paused"
    trainer = screen.trainer
    assert trainer is not None
    target = trainer.least_epochs + epochs_from_least
    await pilot.press("E", *str(target), "enter")
    await wait_for(pilot, lambda: trainer.epochs == target)
    await pilot.press("space")
    await wait_for(pilot, lambda: screen.state == "finished", timeout=30)
    return target


async def test_epochs_raised_mid_run_ends_after_exactly_the_new_number(
    dashboard: Dashboard,
) -> None:
    async with dashboard(config=FEW, deterministic=True) as (app, pilot):
        await wait_for(pilot, lambda: main_screen(app).state == "ready")
        target = await _set_epochs_while_paused(pilot, app, epochs_from_least=FEW.epochs + 2)
        session = main_screen(app).session
        assert session is not None
        assert [e.epoch for e in session.history] == list(range(1, target + 1))
        lines = log_lines(app)
        assert any(line.startswith(f"epochs {FEW.epochs} → {target}") for line in lines)
        assert any(f"{target} epochs" in line for line in lines[-2:])


async def test_epochs_lowered_mid_run_ends_after_exactly_the_new_number(
    dashboard: Dashboard,
) -> None:
    async with dashboard(config=LONG, deterministic=True) as (app, pilot):
        await wait_for(pilot, lambda: main_screen(app).state == "ready")
        target = await _set_epochs_while_paused(pilot, app, epochs_from_least=1)
        session = main_screen(app).session
        assert session is not None
        assert [e.epoch for e in session.history] == list(range(1, target + 1))
        assert any(line.startswith(f"epochs {LONG.epochs} → {target}") for line in log_lines(app))


async def test_epochs_changed_while_paused_show_at_once(dashboard: Dashboard) -> None:
    """The log and the progress's k/N follow at Enter, not at the next mini-batch."""
    async with dashboard(config=LONG, deterministic=True) as (app, pilot):
        screen = await ready(pilot, app)
        await pilot.press("space")
        epoch_line = app.query_one("#epoch-line")
        await wait_for(pilot, lambda: str(epoch_line.render()).startswith("Epoch "))
        await pilot.press("space")
        trainer = screen.trainer
        assert trainer is not None
        await wait_for(pilot, lambda: any(ln.startswith("Paused") for ln in log_lines(app)))
        images = trainer.snapshot  # the network as the pause left it
        target = trainer.least_epochs + 6
        await pilot.press("E", *str(target), "enter")
        await wait_for(pilot, lambda: any(f"→ {target}" in ln for ln in log_lines(app)))
        line = str(epoch_line.render())
        assert f"/{trainer.first_epoch + target - 1} " in line, line
        assert screen.state == "paused" and trainer.paused
        assert trainer.snapshot is images  # nothing trained meanwhile
        await stop_run(pilot, screen)


async def test_epochs_below_the_one_under_way_are_refused(dashboard: Dashboard) -> None:
    async with dashboard(config=LONG, deterministic=True) as (app, pilot):
        screen = await ready(pilot, app)
        await pilot.press("space")
        await wait_for(
            pilot, lambda: screen.session is not None and len(screen.session.history) >= 2
        )
        await pilot.press("space")
        await wait_for(pilot, lambda: screen.state == "paused")
        trainer = screen.trainer
        assert trainer is not None and trainer.least_epochs >= 3
        await pilot.press("E", "1", "enter")
        await pilot.pause()
        assert trainer.epochs == LONG.epochs
        assert app.query_one("#epochs", Input).value == str(LONG.epochs)
        await stop_run(pilot, screen)


async def test_the_footer_shows_the_keys_that_apply_and_fits_80_columns(
    dashboard: Dashboard,
) -> None:
    async with dashboard(config=LONG, deterministic=True, size=(80, 30)) as (app, pilot):
        screen = await ready(pilot, app)
        seen = {}
        for state in ("ready", "running", "paused", "finished"):
            if state == "running" or state == "paused":
                await pilot.press("space")
            elif state == "finished":
                await pilot.press("x")
            await wait_for(pilot, lambda s=state: screen.state == s)
            await pilot.pause()
            keys = footer(app)
            seen[state] = {label for _, label, enabled in keys if enabled}
            assert all(enabled for _, _, enabled in keys), (state, keys)  # nothing greyed out
            bar = app.screen.query_one(KeyBar)
            assert bar.region.x + bar.keys[-1].end <= 80, keys
        assert {"Start", "η", "Epochs", "Sweep"} <= seen["ready"]
        assert "Sweep" in seen["finished"]  # and not during a run: a sweep takes the cores
        assert "Sweep" not in seen["running"] and "Sweep" not in seen["paused"]
        assert "Pause" not in seen["ready"] and "Resume" not in seen["ready"]
        assert {"Pause", "Stop", "η", "Epochs"} <= seen["running"]
        assert "Start" not in seen["running"] and "Resume" not in seen["running"]
        assert {"Resume", "Stop"} <= seen["paused"] and "Pause" not in seen["paused"]
        assert "Start" in seen["finished"] and "Stop" not in seen["finished"]

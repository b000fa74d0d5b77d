"""`nntui serve` in a real browser: Debian's chromium, driven by Playwright.

The screen is read from the page's terminal widget (xterm.js) buffer, as text,
not from pixels. CI installs chromium when it is missing (.ci/run); this
machine cannot download a browser of Playwright's own, so the test points
Playwright at that one.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("textual_serve")  # the `serve` extra (part of the `test` extra)
pytest.importorskip("playwright")

from playwright import sync_api

from nntui.store.runs import RunStore
from tests.fakedata import write_book_pickle
from tests.serve.served import EPOCH_LINE, Served, alive, serving, wait_until

CHROMIUM = shutil.which("chromium")
# Skipped where chromium is missing, except in CI, whose .ci/run installs it.
pytestmark = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("CI"), reason="chromium is not installed"
)

# textual-serve's page keeps its xterm.js Terminal inside its script bundle. The object
# that holds it sets `fitAddon` just after `terminal`: a setter on Object.prototype for
# that name sees the holder once, and leaves the terminal where the test can read it.
EXPOSE_TERMINAL = """
Object.defineProperty(Object.prototype, "fitAddon", {
  configurable: true,
  set(value) {
    if (this.terminal && this.terminal.buffer && !window.nntuiTerminal) {
      window.nntuiTerminal = this.terminal;
    }
    Object.defineProperty(this, "fitAddon", {
      value, writable: true, configurable: true, enumerable: true,
    });
  },
});
"""
# The terminal's visible rows, as text.
SCREEN = """() => {
  const terminal = window.nntuiTerminal;
  if (!terminal) return "";
  const buffer = terminal.buffer.active;
  const rows = [];
  for (let y = 0; y < terminal.rows; y++) {
    const line = buffer.getLine(buffer.viewportY + y);
    rows.push(line ? line.translateToString(true, 0, terminal.cols) : "");
  }
  return rows.join("\\n");
}"""


@pytest.fixture(scope="module")
def long_epochs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Enough images that the run is still going when the tab closes."""
    return write_book_pickle(tmp_path_factory.mktemp("data") / "mnist.pkl.gz", 25_000, 5_000, 100)


def screen_shows(page, pattern: str, timeout: float = 60.0) -> str:
    """Wait until the terminal's text matches ``pattern``; the matching text."""
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        text = page.evaluate(SCREEN)
        match = re.search(pattern, text)
        if match:
            return match.group(0)
        page.wait_for_timeout(200)
    raise AssertionError(f"{pattern!r} not on the screen:\n{text}")


def click_on(page, word: str) -> None:
    """Click the middle of the first cell where ``word`` is written on the terminal."""
    rows = page.evaluate(SCREEN).split("\n")
    y, x = next((y, row.index(word)) for y, row in enumerate(rows) if word in row)
    box = page.locator(".xterm-screen").bounding_box()
    cols, lines = page.evaluate("() => [window.nntuiTerminal.cols, window.nntuiTerminal.rows]")
    cell_w, cell_h = box["width"] / cols, box["height"] / lines
    page.mouse.click(box["x"] + (x + len(word) / 2) * cell_w, box["y"] + (y + 0.5) * cell_h)


@contextlib.contextmanager
def open_page(served: Served, **options: Any) -> Iterator[sync_api.Page]:
    """A chromium page (``options`` to `Browser.new_page`) on the served dashboard."""
    with sync_api.sync_playwright() as playwright:
        # --no-sandbox: CI runs as root, where chromium's sandbox refuses to start.
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(**options)
            page.add_init_script(EXPOSE_TERMINAL)
            page.goto(served.url)
            yield page
        finally:
            browser.close()


def test_the_dashboard_in_chromium(long_epochs):
    with serving("--data", str(long_epochs)) as served:
        with open_page(served, viewport={"width": 1280, "height": 860}) as page:
            assert page.title() == "nntui"
            screen_shows(page, r"Ready")
            (dashboard,) = served.dashboards()
            assert page.evaluate("() => window.nntuiTerminal.cols") > 80  # the page's size

            page.locator(".xterm").click()  # the terminal takes the keys, as a user's click does
            page.keyboard.press("Space")
            line = screen_shows(page, EPOCH_LINE, timeout=90)
            assert re.fullmatch(EPOCH_LINE, line)

            click_on(page, "Pause")  # the mouse reaches the dashboard too
            screen_shows(page, r"Paused in epoch \d+")

            # A smaller window: the dashboard is drawn again at the terminal's new width.
            page.set_viewport_size({"width": 900, "height": 700})
            page.wait_for_function("() => window.nntuiTerminal.cols < 100")
            cols = page.evaluate("() => window.nntuiTerminal.cols")
            page.wait_for_function(
                f"() => ({SCREEN})().split('\\n')[0].trimEnd().length === {cols}"
            )
            assert page.evaluate(SCREEN).splitlines()[0].rstrip().endswith("╮")

            page.close()
            closed = time.monotonic()
            assert wait_until(lambda: not alive(dashboard), timeout=10)
            assert time.monotonic() - closed < 10
        (run,) = RunStore(os.environ["NNTUI_RUNS"]).list()
        assert run.status == "stopped" and 1 <= run.epochs_done < 30


def test_ctrl_c_in_the_page_quits_its_dashboard(tiny_data_file):
    # The browser keeps some keys for itself (ctrl+w, ctrl+t, ctrl+n); ctrl+c is not one.
    with serving("--data", str(tiny_data_file)) as served, open_page(served) as page:
        screen_shows(page, r"Ready")
        (dashboard,) = served.dashboards()
        page.locator(".xterm").click()
        page.keyboard.press("Control+c")
        page.locator(".closed-bar").wait_for(state="visible", timeout=15_000)
        assert wait_until(lambda: not alive(dashboard), timeout=10)

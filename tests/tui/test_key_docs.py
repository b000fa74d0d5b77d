"""The keys as documented (the README's key table, the help screen) are the keys bound.

The dashboard's keys are `MAIN_KEYS` and the app's own; a key added, renamed or dropped
must show in both texts, and a documented key must exist.
"""

from __future__ import annotations

import re
from pathlib import Path

from nntui.tui.app import NntuiApp
from nntui.tui.screens.help import HELP
from nntui.tui.screens.main_keys import MAIN_KEYS

README = Path(__file__).resolve().parents[2] / "README.md"
# How the texts write the keys Textual names otherwise.
SHOWN = {"full_stop": ".", "minus": "-", "plus": "+", "question_mark": "?"}
# Not in the tables: `escape` leaves a field or a screen, `=` is `+` unshifted, and
# ctrl+c is `q` for those who type it out of habit (the help screen names it in passing).
ALIASES = {"escape", "equals_sign", "ctrl+c"}
# A key in backticks followed, through other keys joined by "or" or "/", by its bold name.
DOCUMENTED_KEY = re.compile(r"`([^`]+)`(?=(?:\s*(?:or|/)\s*`[^`]+`)*\s*\*\*)")


def bound_keys() -> set[str]:
    keys = set()
    for binding in [*MAIN_KEYS, *NntuiApp.BINDINGS]:
        for key in binding.key.split(","):  # type: ignore[union-attr]
            if key not in ALIASES:
                keys.add(SHOWN.get(key, key))
    return keys


def readme_keys() -> set[str]:
    """The keys in the first column of the README's table headed ``| key | does |``."""
    lines = README.read_text(encoding="utf-8").splitlines()
    start = lines.index("| key | does |")
    keys: set[str] = set()
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        keys.update(re.findall(r"`([^`]+)`", line.split("|")[1]))
    return keys


def help_keys() -> set[str]:
    """The keys the help screen names in bold, in its sections on controls and looking inside."""
    sections = HELP.split("## Hyperparameters")[0]
    return set(DOCUMENTED_KEY.findall(sections)) - {"ctrl+c"}


def test_the_help_screen_names_every_key_and_only_those() -> None:
    assert help_keys() == bound_keys()


def test_every_key_in_the_readme_table_is_bound() -> None:
    assert readme_keys() - bound_keys() == set()


def test_every_bound_key_is_in_the_readme_table() -> None:
    assert bound_keys() - readme_keys() == set()


def test_the_parsers_find_keys() -> None:
    """The checks above must be able to fail: the texts' keys are really read."""
    assert {"s", "space", ".", "R", "?"} <= help_keys()
    assert {"s", "space", ".", "R", "?"} <= readme_keys()
    assert {"s", "space", ".", "R", "S", "?"} <= bound_keys()

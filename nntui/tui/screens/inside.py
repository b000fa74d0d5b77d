"""The look-inside screens by the name their key bindings use, for the main and runs screens."""

from __future__ import annotations

from nntui.tui.screens.base import InsideScreen
from nntui.tui.screens.confusion import ConfusionScreen
from nntui.tui.screens.draw import DrawScreen
from nntui.tui.screens.misclassified import MisclassifiedScreen
from nntui.tui.screens.neurons import NeuronsScreen

INSIDE_SCREENS: dict[str, type[InsideScreen]] = {
    "draw": DrawScreen,
    "confusion": ConfusionScreen,
    "misclassified": MisclassifiedScreen,
    "neurons": NeuronsScreen,
}
NEEDS_DATA = ("confusion", "misclassified")  # the rest work on a saved model alone

"""The look-inside screens by the name their key bindings use, for the main and runs screens."""

from __future__ import annotations

from textual.screen import Screen

from nntui.tui.model.session import Session
from nntui.tui.screens.base import InsideScreen
from nntui.tui.screens.confusion import ConfusionScreen
from nntui.tui.screens.draw import DrawScreen
from nntui.tui.screens.layers import LayersScreen
from nntui.tui.screens.misclassified import DigitPagerScreen, MisclassifiedScreen
from nntui.tui.screens.neurons import NeuronsScreen

INSIDE_SCREENS: dict[str, type[InsideScreen]] = {
    "draw": DrawScreen,
    "confusion": ConfusionScreen,
    "misclassified": MisclassifiedScreen,
    "neurons": NeuronsScreen,
}
NEEDS_DATA = ("confusion", "misclassified")  # the rest work on a saved model alone


def live_screen(view: str, session: Session) -> Screen[None] | None:
    """The look-inside screen ``view`` on the dashboard's network, following it as it trains.

    Besides `INSIDE_SCREENS`: ``layers`` (every layer of one digit) and ``gallery``
    (the gallery's digits one at a time, with every layer); None if there is nothing to show.
    """
    if view == "layers":
        return LayersScreen(session)
    if view == "gallery":
        indices = session.sample_indices
        return DigitPagerScreen(session, indices, title="Gallery") if indices else None
    return INSIDE_SCREENS[view](session)

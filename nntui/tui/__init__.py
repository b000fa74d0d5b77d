"""The Textual dashboard: ``nntui`` with no command. See `nntui.tui.app`.

Textual draws a screen at most `FRAMES_PER_SECOND` times a second, read from
``TEXTUAL_FPS`` when Textual is first imported: here, before any module of
the dashboard imports it. At Textual's default of 60, a frame that follows a
long one (a chart redrawn while training) can wait two 16.7 ms periods, and a
key pressed then waited up to 50 ms for its answer on a slow 2-core machine;
at 120 the wait is halved. Nothing animates while training, so frames still
come only when something changed. A ``TEXTUAL_FPS`` set by the user is kept.
"""

import os

FRAMES_PER_SECOND = 120
os.environ.setdefault("TEXTUAL_FPS", str(FRAMES_PER_SECOND))

"""``nntui predict``: classify a digit in an image file, drawing it and the network's output.

The work happens in `nntui.data.digits`; this command only prints. A bad MODEL or image is
one line on stderr and exit code 2.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.text import Text

from nntui.cli.console import err_console, stdout_console
from nntui.cli.saved import ModelArgument, load_network
from nntui.data.digits import center_and_scale, read_image
from nntui.engine.config import INPUTS
from nntui.render.digit_art import ArtStyle, ascii_art, can_encode, digit_art

BAR_WIDTH = 30  # characters for an activation of 1.0


class ArtChoice(StrEnum):
    half = "half"
    braille = "braille"
    ascii = "ascii"


ART_STYLES: dict[ArtChoice, ArtStyle] = {
    ArtChoice.half: "half",
    ArtChoice.braille: "braille",
    ArtChoice.ascii: "ascii",
}


def predict(
    model: ModelArgument,
    image: Annotated[
        Path,
        typer.Argument(
            metavar="IMAGE",
            help="A 28x28 grayscale digit, PNG or PGM; other sizes are centred and scaled.",
            show_default=False,
        ),
    ],
    raw: Annotated[
        bool,
        typer.Option(
            "--raw", help="Feed a 28x28 image as it is, without MNIST's centring and scaling."
        ),
    ] = False,
    style: Annotated[
        ArtChoice | None,
        typer.Option(
            help="How to draw the digit: half blocks in grey, braille dots or plain ASCII. "
            "[default: half on a colour terminal, braille otherwise, ascii where the output "
            "cannot show Unicode]"
        ),
    ] = None,
) -> None:
    """Classify a handwritten digit in a PNG or PGM file, showing the network's output.

    Like MNIST's digits, the image is centred by its centre of mass and scaled
    into a 20x20 box (unless --raw); dark ink on light paper is inverted.
    """
    saved = load_network(model)
    digit = read_image(image)
    for note in digit.notes():
        err_console.print(f"note: {note}", markup=False, soft_wrap=True)
    pixels = digit.pixels if raw else center_and_scale(digit.pixels)
    activations = saved.network.feedforward(pixels.reshape(INPUTS, 1)).ravel()  # (10,)
    guess = int(np.argmax(activations))
    out = stdout_console()
    unicode = can_encode(out.encoding)
    chosen: ArtStyle
    if style is None:
        # Shades of grey need colour; without it (piped) braille dots still show the
        # shape; an output that cannot carry those characters gets ASCII.
        chosen = ("half" if out.color_system else "braille") if unicode else "ascii"
    else:
        chosen = ART_STYLES[style]
    # ASCII at full resolution here (the gallery halves it to fit its cards).
    out.print(ascii_art(pixels, scale=1) if chosen == "ascii" else digit_art(pixels, chosen))
    out.print(_activation_bars(activations, guess, unicode and chosen != "ascii"))
    out.print(Text.assemble("prediction: ", (str(guess), "bold")))


def _activation_bars(activations: np.ndarray, guess: int, unicode: bool = True) -> Text:
    full, empty = ("█", "·") if unicode else ("#", ".")
    lines = []
    for d, a in enumerate(activations.tolist()):
        filled = round(min(max(a, 0.0), 1.0) * BAR_WIDTH)
        style = "bold green" if d == guess else ""
        lines.append(
            Text.assemble(
                (f"{d} ", style),
                (full * filled, style or "cyan"),
                (empty * (BAR_WIDTH - filled), "dim"),
                (f" {a:.3f}", style),
            )
        )
    return Text("\n").join(lines)

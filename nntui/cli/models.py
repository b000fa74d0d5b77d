"""``nntui runs``, ``nntui eval`` and ``nntui predict``: look at what trained networks learned.

The work happens in `nntui.store.runs`, `nntui.engine.analysis` and `nntui.data.digits`; these
commands only print. Results go to stdout, notes and the data's progress to
stderr; every bad input is one line on stderr and exit code 2.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from nntui.cli.baseline import book_svm_line
from nntui.cli.console import DataOption, err_console
from nntui.cli.data import ensure_data_with_progress
from nntui.cli.train import EvalSet
from nntui.data import datastore
from nntui.data.digits import center_and_scale, read_image
from nntui.data.mnist import load_mnist
from nntui.engine.analysis import (
    RANDOM_GUESS,
    confusion_matrix,
    darkness_baseline,
    per_digit_accuracy,
)
from nntui.engine.config import INPUTS, OUTPUTS, format_sizes
from nntui.engine.errors import ConfigError, ModelFileError
from nntui.store.model_file import SavedModel, load_model
from nntui.store.runs import RunInfo, RunStore, find_model
from nntui.tui.render.digit_art import ascii_art, can_encode, digit_art

BAR_WIDTH = 30  # characters for an activation of 1.0

ModelArgument = Annotated[
    str,
    typer.Argument(
        metavar="MODEL",
        help="A model file (.npz from 'nntui train --save'), or a run's name from 'nntui runs'.",
        show_default=False,
    ),
]


def runs(
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the runs as JSON, with every epoch's record.")
    ] = False,
    sweep: Annotated[
        str | None,
        typer.Option(
            metavar="SWEEP", help="Show one sweep's summary again (its id from 'nntui sweep')."
        ),
    ] = None,
    delete: Annotated[
        bool, typer.Option("--delete", help="With --sweep: delete that sweep's runs.")
    ] = False,
) -> None:
    """List the training runs kept in the runs directory, oldest first.

    The directory is $NNTUI_RUNS, else ~/.local/share/nntui/runs. A run's name,
    or the start of one, can be given to 'nntui eval' and 'nntui predict'.
    Runs of a sweep show its id; --sweep ID shows that sweep's summary.
    """
    if delete and sweep is None:
        raise ConfigError("--delete needs --sweep ID (which sweep's runs to delete)")
    if sweep is not None:
        from nntui.cli.sweep import runs_of_sweep

        runs_of_sweep(sweep, delete, as_json)
        return
    store = RunStore()
    skipped: list[str] = []
    infos = store.list(skipped)
    for line in skipped:
        err_console.print(f"note: {line}", markup=False, soft_wrap=True)
    if as_json:
        print(json.dumps([_run_json(r) for r in infos], indent=2))
        return
    if not infos:
        err_console.print(
            f"No runs yet in {store.root}. 'nntui train' keeps each run there.", markup=False
        )
        return
    table = Table(
        title=f"Runs in {store.root}",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        padding=(0, 0, 0, 1),
        pad_edge=False,
    )
    # The name is what 'nntui eval' takes, so it is never cut; the rest may be.
    table.add_column("name", no_wrap=True, min_width=max(len(r.name) for r in infos))
    table.add_column("sizes")
    table.add_column("eta", justify="right")
    table.add_column("m", justify="right")
    table.add_column("epochs", justify="right")
    table.add_column("best", justify="right")
    table.add_column("status")
    sweeps = any(r.sweep for r in infos)
    if sweeps:
        table.add_column("sweep")
    for r in infos:
        c = r.config
        best = r.best
        table.add_row(
            r.name,
            format_sizes(c.sizes),
            f"{c.eta:g}",
            str(c.mini_batch_size),
            f"{r.epochs_done}/{c.epochs}",
            f"{100 * best['correct'] / best['total']:.2f}%" if best and best["total"] else "-",
            r.status,
            *([r.sweep or ""] if sweeps else []),
        )
    _stdout().print(table)


def _run_json(r: RunInfo) -> dict[str, Any]:
    best = r.best
    return {
        "name": r.name,
        "path": str(r.path),
        "config": r.config.to_dict(),
        "seed": r.seed,
        "status": r.status,
        "started": r.started,
        "finished": r.finished,
        "resumed_from": r.resumed_from,
        "sweep": r.sweep,
        "note": r.note,
        "epochs_done": r.epochs_done,
        "best_correct": best["correct"] if best else None,
        "best_accuracy": r.best_accuracy,
        "model": str(r.model_path) if r.model_path else None,
        "epochs": list(r.history),
    }


def eval_(
    model: ModelArgument,
    on: Annotated[EvalSet, typer.Option(help="Which 10,000 images to evaluate on.")] = EvalSet.test,
    data: DataOption = None,
) -> None:
    """Evaluate a saved network: accuracy, confusion matrix and accuracy per digit.

    Also shows the chapter's baselines on the same images: guessing at random,
    the average-darkness classifier and, on the test set, the SVM (the figure
    'nntui baseline svm' cached, else the book's, marked as not reproduced).
    """
    saved = _load_network(model)
    path = ensure_data_with_progress(data, err_console)
    dataset = load_mnist(path)
    split = dataset.split(on.value)
    predictions = saved.network.predict(split.images)  # (n,)
    cm = confusion_matrix(split.labels, predictions)
    correct, total = int(np.trace(cm)), len(split)
    out = _stdout()
    out.print(f"{correct} / {total}  ({100 * correct / total:.2f}%) on the {on.value} set")
    darkness = darkness_baseline(dataset.training, split)
    out.print(
        f"baselines: random guess {100 * RANDOM_GUESS:.2f}%, "
        f"average darkness {darkness} / {total} ({100 * darkness / total:.2f}%)",
        style="dim",
    )
    if on is EvalSet.test:  # the SVM is scored on the test images, as in the book
        svm = book_svm_line(datastore.baseline_dirs(path), datastore.data_checksum(path), total)
        out.print(f"           {svm}", style="dim", markup=False)
    out.print(_confusion_table(cm))


def _confusion_table(cm: np.ndarray) -> Table:
    accuracy = per_digit_accuracy(cm)
    table = Table(
        title="Confusion matrix (rows: true digit, columns: predicted)",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        padding=(0, 0, 0, 1),
        pad_edge=False,
    )
    table.add_column("true", justify="right", style="bold")
    for j in range(cm.shape[1]):
        table.add_column(str(j), justify="right")
    table.add_column("images", justify="right")
    table.add_column("accuracy", justify="right")
    for i, row in enumerate(cm):
        cells = [
            Text(str(n), style="bold green" if i == j else ("red" if n else "dim"))
            for j, n in enumerate(row)
        ]
        share = "-" if np.isnan(accuracy[i]) else f"{100 * accuracy[i]:.2f}%"
        table.add_row(str(i), *cells, str(int(row.sum())), share)
    return table


class ArtChoice(StrEnum):
    half = "half"
    braille = "braille"
    ascii = "ascii"


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
    saved = _load_network(model)
    digit = read_image(image)
    for note in digit.notes():
        err_console.print(f"note: {note}", markup=False, soft_wrap=True)
    pixels = digit.pixels if raw else center_and_scale(digit.pixels)
    activations = saved.network.feedforward(pixels.reshape(INPUTS, 1)).ravel()  # (10,)
    guess = int(np.argmax(activations))
    out = _stdout()
    unicode = can_encode(out.encoding)
    if style is None:
        # Shades of grey need colour; without it (piped) braille dots still show the
        # shape; an output that cannot carry those characters gets ASCII.
        chosen = ("half" if out.color_system else "braille") if unicode else "ascii"
    else:
        chosen = style.value
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


def _stdout() -> Console:
    """Rich on stdout. Piped, lines are as long as they need to be, not cut at 80 columns."""
    out = Console(highlight=False)
    if not out.is_terminal:
        out = Console(highlight=False, width=max(out.width, 160))
    return out


def _load_network(spec: str) -> SavedModel:
    """Load MODEL (a file or a run) and check it reads 28x28 images into 10 digits."""
    path = find_model(spec)
    saved = load_model(path)
    sizes = saved.network.sizes
    if sizes[0] != INPUTS or sizes[-1] != OUTPUTS:
        raise ModelFileError(
            f"{path}: the network has {sizes[0]} inputs and {sizes[-1]} outputs; "
            f"MNIST needs {INPUTS} and {OUTPUTS}"
        )
    params = saved.network.weights + saved.network.biases
    if not all(np.isfinite(p).all() for p in params):
        # Its answers would be argmax of NaNs: always 0, about 10% right, meaningless.
        epoch = f" (after epoch {saved.epochs_done})" if saved.epochs_done else ""
        raise ModelFileError(
            f"{path}: the network diverged{epoch}: its weights are NaN or infinite, so it "
            "has no answers to give; train it again with a smaller eta"
        )
    return saved

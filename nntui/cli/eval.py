"""``nntui eval``: a saved network's accuracy, confusion matrix and the chapter's baselines.

The work happens in `nntui.engine.analysis`; this command only prints. Results go to stdout,
the data's progress to stderr; a bad MODEL is one line on stderr and exit code 2.
"""

from __future__ import annotations

from typing import Annotated

import numpy as np
import typer
from rich.table import Table
from rich.text import Text

from nntui.cli.baseline import book_svm_line
from nntui.cli.console import DataOption, err_console, results_table, stdout_console
from nntui.cli.data import ensure_data_with_progress
from nntui.cli.saved import ModelArgument, load_network
from nntui.cli.train import EvalSet
from nntui.data import datastore
from nntui.data.mnist import load_mnist
from nntui.engine.analysis import (
    RANDOM_GUESS,
    confusion_matrix,
    darkness_baseline,
    per_digit_accuracy,
)


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
    saved = load_network(model)
    path = ensure_data_with_progress(data, err_console)
    dataset = load_mnist(path)
    split = dataset.split(on.value)
    predictions = saved.network.predict(split.images)  # (n,)
    cm = confusion_matrix(split.labels, predictions)
    correct, total = int(np.trace(cm)), len(split)
    out = stdout_console()
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
    table = results_table("Confusion matrix (rows: true digit, columns: predicted)")
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

"""The MODEL argument of ``nntui eval`` and ``nntui predict``: a model file or a kept run."""

from __future__ import annotations

from typing import Annotated

import numpy as np
import typer

from nntui.engine.config import INPUTS, OUTPUTS
from nntui.engine.errors import ModelFileError
from nntui.store.model_file import SavedModel, load_model
from nntui.store.runs import find_model

ModelArgument = Annotated[
    str,
    typer.Argument(
        metavar="MODEL",
        help="A model file (.npz from 'nntui train --save'), or a run's name from 'nntui runs'.",
        show_default=False,
    ),
]


def load_network(spec: str) -> SavedModel:
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

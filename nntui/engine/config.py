"""Hyperparameters of a run, and the checks both the CLI and the dashboard apply to them.

Each ``parse_*`` function takes what a person typed and returns the value or
raises `ConfigError` with one line saying what is wrong and what is allowed.
The CLI prints that line and exits with code 2; the dashboard shows it next to
the input.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

from nntui.engine.errors import ConfigError

INPUTS = 784  # one input neuron per pixel of a 28x28 image
OUTPUTS = 10  # one output neuron per digit
MAX_TRAIN_SIZE = 50_000  # the book's training split
MAX_HIDDEN = 10_000  # beyond this a layer no longer fits the point (or the memory) of the book
MAX_EPOCHS = 10_000
MAX_HIDDEN_LAYERS = 10  # deeper than this, Chapter 1's sigmoid network does not learn anyway
WARN_BYTES = 1 << 30  # say how much memory a run needs above this
EVAL_SETS = ("test", "validation")
BACKPROPS = ("matrix", "per-sample")

EvalOn = Literal["test", "validation"]
Backprop = Literal["matrix", "per-sample"]


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a training run. Defaults are the book's Chapter 1 run."""

    sizes: tuple[int, ...] = (784, 30, 10)  # neurons per layer, input first
    epochs: int = 30
    mini_batch_size: int = 10  # m in Eqs. 20-21
    eta: float = 3.0  # the learning rate
    seed: int | None = None  # None: pick one at random (and record it)
    train_size: int = MAX_TRAIN_SIZE  # use the first n training images
    eval_on: EvalOn = "test"  # the book reports accuracy on the test set
    backprop: Backprop = "matrix"  # "per-sample" is the book's literal loop

    def validate(self) -> TrainConfig:
        """Check every field together; return self or raise `ConfigError`."""
        check_sizes(self.sizes)
        check_epochs(self.epochs)
        check_eta(self.eta)
        check_train_size(self.train_size)
        check_mini_batch_size(self.mini_batch_size, self.train_size)
        if self.seed is not None and not 0 <= self.seed < 2**32:
            raise ConfigError(f"seed must be a whole number from 0 to {2**32 - 1}, got {self.seed}")
        if self.eval_on not in EVAL_SETS:
            raise ConfigError(f"eval set must be 'test' or 'validation', got {self.eval_on!r}")
        if self.backprop not in BACKPROPS:
            raise ConfigError(f"backprop must be 'matrix' or 'per-sample', got {self.backprop!r}")
        return self

    def with_changes(self, **changes: Any) -> TrainConfig:
        """A copy with some fields replaced."""
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values."""
        d = asdict(self)
        d["sizes"] = list(self.sizes)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        """Inverse of `to_dict`; unknown keys are ignored so older files still load."""
        known = {k: d[k] for k in cls.__dataclass_fields__ if k in d}
        if "sizes" in known:
            known["sizes"] = tuple(int(n) for n in known["sizes"])
        return cls(**known)


def _parse_int(text: str, what: str) -> int:
    try:
        return int(text.strip().replace("_", ""))
    except (ValueError, AttributeError):
        raise ConfigError(f"{what} must be a whole number, got {text!r}") from None


def parse_sizes(text: str) -> tuple[int, ...]:
    """Parse layer sizes such as ``784,30,10`` (spaces allowed)."""
    parts = [p.strip() for p in str(text).split(",")]
    if any(p == "" for p in parts):
        raise ConfigError(
            f"layer sizes must be whole numbers separated by commas, like 784,30,10; got {text!r}"
        )
    sizes = tuple(_parse_int(p, "each layer size") for p in parts)
    return check_sizes(sizes)


def check_sizes(sizes: tuple[int, ...]) -> tuple[int, ...]:
    if len(sizes) < 2:
        raise ConfigError(
            "layer sizes need at least an input and an output layer, like 784,30,10; "
            f"got {_fmt(sizes)}"
        )
    if sizes[0] != INPUTS:
        raise ConfigError(
            f"the first layer must have {INPUTS} neurons (one per pixel), got {sizes[0]}"
        )
    if sizes[-1] != OUTPUTS:
        raise ConfigError(
            f"the last layer must have {OUTPUTS} neurons (one per digit), got {sizes[-1]}"
        )
    if len(sizes) - 2 > MAX_HIDDEN_LAYERS:
        raise ConfigError(
            f"at most {MAX_HIDDEN_LAYERS} hidden layers, got {len(sizes) - 2} "
            "(Chapter 1's sigmoid network learns with one)"
        )
    for n in sizes[1:-1]:
        if not 1 <= n <= MAX_HIDDEN:
            raise ConfigError(f"a hidden layer must have 1 to {MAX_HIDDEN} neurons, got {n}")
    return sizes


def parse_hidden(text: str) -> tuple[int, ...]:
    """Parse hidden layer sizes only (``30`` or ``100,30``) into full sizes."""
    text = str(text).strip()
    if text in ("", "0", "none"):
        return (INPUTS, OUTPUTS)
    return parse_sizes(f"{INPUTS},{text},{OUTPUTS}")


def parse_eta(text: str) -> float:
    try:
        eta = float(str(text).strip())
    except ValueError:
        raise ConfigError(f"eta must be a number greater than 0, like 3.0; got {text!r}") from None
    return check_eta(eta)


def check_eta(eta: float) -> float:
    if not math.isfinite(eta) or eta <= 0:
        raise ConfigError(f"eta must be a number greater than 0, like 3.0; got {eta}")
    return eta


def parse_epochs(text: str) -> int:
    return check_epochs(_parse_int(text, "epochs"))


def check_epochs(epochs: int) -> int:
    return _from_1_to(epochs, MAX_EPOCHS, f"epochs must be from 1 to {MAX_EPOCHS}")


def parse_train_size(text: str) -> int:
    return check_train_size(_parse_int(text, "training-set size"))


def check_train_size(n: int) -> int:
    return _from_1_to(n, MAX_TRAIN_SIZE, f"training-set size must be from 1 to {MAX_TRAIN_SIZE:,}")


def parse_mini_batch_size(text: str, train_size: int = MAX_TRAIN_SIZE) -> int:
    return check_mini_batch_size(_parse_int(text, "mini-batch size"), train_size)


def check_mini_batch_size(m: int, train_size: int = MAX_TRAIN_SIZE) -> int:
    rule = f"mini-batch size must be from 1 to the training-set size ({train_size:,})"
    return _from_1_to(m, train_size, rule)


def _from_1_to(n: int, most: int, rule: str) -> int:
    """``n`` if it is from 1 to ``most``; else a `ConfigError`: the ``rule``, and ``n``."""
    if not 1 <= n <= most:
        raise ConfigError(f"{rule}, got {n}")
    return n


def parse_seed(text: str) -> int | None:
    """A seed, or None for an empty field (random)."""
    if str(text).strip() == "":
        return None
    seed = _parse_int(text, "seed")
    if not 0 <= seed < 2**32:
        raise ConfigError(f"seed must be a whole number from 0 to {2**32 - 1}, got {seed}")
    return seed


def format_sizes(sizes: Sequence[int], sep: str = ",") -> str:
    """Layer sizes as people type them, ``784,30,10`` (or ``784-30-10`` with ``sep="-"``)."""
    return sep.join(str(n) for n in sizes)


def _fmt(sizes: tuple[int, ...]) -> str:
    return format_sizes(sizes) or "nothing"


def estimate_memory(config: TrainConfig, itemsize: int = 4, eval_size: int = 10_000) -> int:
    """About how many bytes training ``config`` takes at its peak, data included.

    The weights and their gradients, the mini-batch's buffers, the float64
    draw a layer's initial weights are made from, the activations of a whole
    evaluation set in the two widest neighbouring layers, and the images as
    the trainer holds them. An estimate, for refusing what cannot fit; it
    errs on the high side.
    """
    sizes = config.sizes
    pairs = list(itertools.pairwise(sizes))
    params = sum(n_in * n_out + n_out for n_in, n_out in pairs)
    batch = 4 * config.mini_batch_size * sum(sizes[1:]) * itemsize
    init = max(n_in * n_out for n_in, n_out in pairs) * 8
    evaluation = 2 * eval_size * max(a + b for a, b in pairs) * itemsize
    images = (config.train_size * (INPUTS + OUTPUTS) + 2 * eval_size * INPUTS) * itemsize
    return 2 * params * itemsize + batch + max(init, evaluation) + images


def available_memory() -> int | None:
    """Bytes the kernel says can be had without swapping (``MemAvailable``), or None."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def check_memory(config: TrainConfig, available: int | None = None) -> str | None:
    """Raise `ConfigError` if ``config`` will not fit in memory; a warning above 1 GB, else None.

    ``available`` defaults to `available_memory`; where that is unknown, only
    the warning is given.
    """
    need = estimate_memory(config)
    have = available if available is not None else available_memory()
    if have is not None and need > have:
        raise ConfigError(
            f"layer sizes {_fmt(config.sizes)} need about {need / 2**30:.1f} GB of memory "
            f"and {have / 2**30:.1f} GB is available; use smaller or fewer hidden layers"
        )
    if need > WARN_BYTES:
        return f"this network needs about {need / 2**30:.1f} GB of memory"
    return None

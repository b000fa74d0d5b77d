"""The runs of a sweep: axes of alternatives, their cartesian product, times the seeds.

Each axis is what a person typed, a comma-separated list: ``--eta 0.5,3,10``,
``--hidden 30,100,100-30,0`` (a dash joins the hidden layers of one network,
0 means no hidden layer), ``-m 10,50``. Every problem is a `ConfigError` of
one line naming the axis, the item and what is allowed, so the CLI can print
it and exit 2 and the dashboard can show it beside the input as it is typed.

    axes = Axes(eta="0.5,3", hidden="30,100", seeds=3)
    runs = build_runs(axes)           # 2 x 2 x 3 = 12 RunSpec
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from nntui.engine.config import (
    INPUTS,
    MAX_TRAIN_SIZE,
    OUTPUTS,
    TrainConfig,
    check_epochs,
    check_mini_batch_size,
    check_sizes,
    check_train_size,
    format_sizes,
    parse_eta,
    parse_seed,
)
from nntui.engine.errors import ConfigError

if TYPE_CHECKING:
    from nntui.engine.dataset import MnistData

MAX_RUNS = 1_000  # more than this needs --yes: a typo in an axis should not queue days of work

T = TypeVar("T")


@dataclass(frozen=True)
class Preset:
    """A named set of experiments, each with the figure the book reports for it."""

    name: str
    experiments: tuple[tuple[tuple[int, ...], float, int], ...]  # (sizes, eta, m)
    epochs: int
    book: dict[str, str]  # config key -> the book's figure, in its words


# Chapter 1, "Implementing our network to classify digits": 30 epochs, mini-batches of 10.
CHAPTER1 = Preset(
    "chapter1",
    (
        ((784, 30, 10), 3.0, 10),
        ((784, 100, 10), 3.0, 10),
        ((784, 100, 10), 0.001, 10),
        ((784, 30, 10), 100.0, 10),
        ((784, 10), 3.0, 10),
    ),
    30,
    {
        "784-30-10 eta 3 m 10": "95.42% (best of 3 runs)",
        "784-100-10 eta 3 m 10": "96.59%",
        "784-100-10 eta 0.001 m 10": "21.42% (last epoch, still rising)",
        "784-30-10 eta 100 m 10": "10.09% (epoch 1)",
        "784-10 eta 3 m 10": "none (an exercise)",
    },
)
PRESETS = {CHAPTER1.name: CHAPTER1}

# The book's figure as a fraction, where it gives one, to compare with the min-max over seeds.
BOOK_ACCURACY = {
    "784-30-10 eta 3 m 10": 0.9542,
    "784-100-10 eta 3 m 10": 0.9659,
    "784-100-10 eta 0.001 m 10": 0.2142,
    "784-30-10 eta 100 m 10": 0.1009,
}


@dataclass(frozen=True)
class Axes:
    """What was typed for each axis; None means the book's value."""

    eta: str | None = None
    hidden: str | None = None
    mini_batch_size: str | None = None
    epochs: int | None = None
    seeds: int | None = None
    seed_list: str | None = None
    train_size: int | None = None
    eval_on: str | None = None
    preset: str | None = None


@dataclass(frozen=True)
class RunSpec:
    """One run of a sweep: its position in the sweep and the complete config (seed included)."""

    index: int
    config: TrainConfig

    @property
    def seed(self) -> int:
        assert self.config.seed is not None
        return self.config.seed

    @property
    def key(self) -> str:
        """The configuration without the seed: the runs of one key are compared over seeds."""
        return config_key(self.config)


def config_key(config: TrainConfig) -> str:
    """``784-30-10 eta 3 m 10``: what tells one configuration of a sweep from another."""
    return f"{format_sizes(config.sizes, '-')} eta {config.eta:g} m {config.mini_batch_size}"


def split_list(text: str, what: str, example: str) -> list[str]:
    """The items of a comma-separated axis; an empty item or list is an error."""
    items = [p.strip() for p in str(text).split(",")]
    if all(p == "" for p in items):
        raise ConfigError(
            f"{what} is empty; give one or more values separated by commas, {example}"
        )
    for i, p in enumerate(items):
        if p == "":
            raise ConfigError(
                f"{what} {text!r} has an empty item (value {i + 1}); "
                f"separate values by single commas, {example}"
            )
    return items


def parse_axis(text: str, what: str, example: str, parse: Callable[[str], T]) -> list[T]:
    """Each item parsed; a repeated value is an error (it would only double the runs)."""
    values = [parse(p) for p in split_list(text, what, example)]
    seen: list[T] = []
    for v in values:
        if v in seen:
            raise ConfigError(f"{what} {text!r} lists {v} twice")
        seen.append(v)
    return values


def parse_eta_item(text: str) -> float:
    try:
        return parse_eta(text)
    except ConfigError:
        raise ConfigError(
            f"each --eta must be a number greater than 0, like 0.5,3,10; got {text!r}"
        ) from None


def parse_hidden_item(text: str) -> tuple[int, ...]:
    """``30`` -> (784, 30, 10); ``100-30`` -> (784, 100, 30, 10); ``0`` -> (784, 10)."""
    if text == "0":
        return (INPUTS, OUTPUTS)
    parts = text.split("-")
    if any(p.strip() == "" for p in parts):
        raise ConfigError(
            f"--hidden {text!r}: a dash joins the hidden layers of one network, like 100-30; "
            "each layer a whole number from 1 (0 alone means no hidden layer)"
        )
    layers = []
    for p in parts:
        try:
            n = int(p.strip().replace("_", ""))
        except ValueError:
            raise ConfigError(
                f"--hidden {text!r}: {p!r} is not a whole number; use sizes like 30,100,100-30,0"
            ) from None
        layers.append(n)
    try:
        return check_sizes((INPUTS, *layers, OUTPUTS))
    except ConfigError as exc:
        raise ConfigError(f"--hidden {text!r}: {exc}") from None


def parse_m_item(text: str) -> int:
    try:
        return int(text.replace("_", ""))
    except ValueError:
        raise ConfigError(f"each -m must be a whole number, like 10,50; got {text!r}") from None


def parse_seed_item(text: str) -> int:
    try:
        seed = parse_seed(text)
    except ConfigError as exc:
        raise ConfigError(f"--seed-list: {exc}") from None
    assert seed is not None  # empty items were refused by split_list
    return seed


def hidden_label(sizes: Sequence[int]) -> str:
    """The --hidden spelling of a network's layer sizes: ``100-30``, or ``0`` for none."""
    return format_sizes(sizes[1:-1], "-") or "0"


def build_runs(axes: Axes, *, allow_many: bool = False) -> list[RunSpec]:
    """The sweep's runs, configuration by configuration, each over every seed.

    Raises `ConfigError` (one line) for a bad axis, an empty product, or more
    than `MAX_RUNS` runs unless ``allow_many``.
    """
    train_size = check_train_size(
        axes.train_size if axes.train_size is not None else MAX_TRAIN_SIZE
    )
    eval_on = axes.eval_on or "test"
    if eval_on not in ("test", "validation"):
        raise ConfigError(f"--eval-on must be 'test' or 'validation', got {eval_on!r}")
    if axes.seeds is not None and axes.seed_list is not None:
        raise ConfigError("give --seeds or --seed-list, not both")
    if axes.seed_list is not None:
        seeds = parse_axis(axes.seed_list, "--seed-list", "like 1,7,9", parse_seed_item)
    else:
        n = axes.seeds if axes.seeds is not None else 1
        if n < 1:
            raise ConfigError(
                f"--seeds must be 1 or more (seeds 1..N), got {n}; the sweep is empty"
            )
        seeds = list(range(1, n + 1))

    if axes.preset is not None:
        preset = PRESETS.get(axes.preset)
        if preset is None:
            raise ConfigError(f"unknown preset {axes.preset!r}; presets: {', '.join(PRESETS)}")
        given = [
            name
            for name, v in (
                ("--eta", axes.eta),
                ("--hidden", axes.hidden),
                ("-m", axes.mini_batch_size),
            )
            if v is not None
        ]
        if given:
            raise ConfigError(
                f"--preset {preset.name} sets the networks, eta and m; drop {', '.join(given)}"
            )
        epochs = check_epochs(axes.epochs if axes.epochs is not None else preset.epochs)
        combos = [(sizes, eta, m) for sizes, eta, m in preset.experiments]
    else:
        etas = parse_axis(_or(axes.eta, "3"), "--eta", "like 0.5,3,10", parse_eta_item)
        sizes_list = parse_axis(
            _or(axes.hidden, "30"), "--hidden", "like 30,100,100-30,0", parse_hidden_item
        )
        ms = parse_axis(_or(axes.mini_batch_size, "10"), "-m", "like 10,50", parse_m_item)
        epochs = check_epochs(axes.epochs if axes.epochs is not None else 30)
        combos = list(itertools.product(sizes_list, etas, ms))
    for _, _, m in combos:
        try:
            check_mini_batch_size(m, train_size)
        except ConfigError as exc:
            raise ConfigError(f"-m: {exc}") from None

    total = len(combos) * len(seeds)
    if total == 0:  # pragma: no cover - every empty axis is refused above
        raise ConfigError("the sweep is empty: every axis needs at least one value")
    if total > MAX_RUNS and not allow_many:
        raise ConfigError(
            f"this sweep has {total:,} runs, more than {MAX_RUNS:,}; add --yes to run them all"
        )
    runs: list[RunSpec] = []
    for sizes, eta, m in combos:
        for seed in seeds:
            config = TrainConfig(
                sizes=tuple(sizes),
                epochs=epochs,
                mini_batch_size=m,
                eta=eta,
                seed=seed,
                train_size=train_size,
                eval_on=eval_on,  # type: ignore[arg-type]
            ).validate()
            runs.append(RunSpec(len(runs), config))
    return runs


# Rough cost of one training image on one core with one BLAS thread at m = 10: a fixed part
# (gathers, calls per mini-batch) and a part per weight. Only for the estimate `--dry-run`
# prints; benchmarks/README.md has measured figures.
_SECONDS_PER_IMAGE = 3e-6
_SECONDS_PER_IMAGE_WEIGHT = 4e-11
_EVAL_SECONDS_PER_IMAGE = 1e-6


def check_runs_fit(runs: Sequence[RunSpec], data: MnistData) -> None:
    """`ConfigError` if a run wants more training images than ``data`` has.

    Checked before the workers get the data, rather than every run failing on them.
    """
    from nntui.engine.training import check_fits  # NumPy: only once there is data

    if runs:
        check_fits(max(runs, key=lambda r: r.config.train_size).config, data)


def estimate_seconds(config: TrainConfig) -> float:
    """A rough estimate of one run's seconds on one core (training and each epoch's evaluation)."""
    weights = sum(a * b for a, b in itertools.pairwise(config.sizes))
    # The fixed part is paid per mini-batch, so larger mini-batches spread it thinner.
    per_image = _SECONDS_PER_IMAGE * math.sqrt(min(1.0, 10 / config.mini_batch_size))
    per_image += _SECONDS_PER_IMAGE_WEIGHT * weights
    evaluate = 10_000 * _EVAL_SECONDS_PER_IMAGE
    return config.epochs * (config.train_size * per_image + evaluate)


def estimate_wall_seconds(runs: Sequence[RunSpec], workers: int) -> float:
    """Runs handed out longest first to ``workers`` single-core workers: the makespan."""
    loads = [0.0] * max(1, workers)
    for seconds in sorted((estimate_seconds(r.config) for r in runs), reverse=True):
        i = loads.index(min(loads))
        loads[i] += seconds
    return max(loads)


def _or(typed: str | None, default: str) -> str:
    # An empty string was typed (and is an error); only None means "not given".
    return default if typed is None else typed

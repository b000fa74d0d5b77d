"""``SGD(..., exact=True)``: the book's own roundings (`nntui.engine.exact`) against its algorithm.

The claim is bit-for-bit equality with the book's code; benchmarks/book_api.py --exact
shows it line for line on MNIST. Here, as everywhere in the tests, results of two code
paths are compared with a tolerance, a very tight one: the default matrix path drifts
further than this over a few epochs of the chaotic runs below.
"""

from __future__ import annotations

import random

import numpy as np
import pytest

from nntui.book import network
from nntui.engine import exact as engine_exact
from nntui.engine.exact import ExactNetwork
from tests.book_reference import BookNetwork

SIZES = [20, 8, 5]
DEEP = [20, 7, 6, 4]
TIGHT = dict(rtol=1e-12, atol=1e-13)


def pictures(n: int, seed: int, n_in: int = 20, n_out: int = 5, zeros: float = 0.8) -> list:
    """n (x, y) pairs like MNIST's: float32 pixels in [0, 1], most of them 0 when ``zeros``."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        x = rng.random((n_in, 1)) * (rng.random((n_in, 1)) >= zeros)
        y = np.zeros((n_out, 1))
        y[int(rng.integers(n_out))] = 1.0
        out.append((x.astype(np.float32), y))
    return out


def labelled(n: int, seed: int, n_in: int = 20, n_out: int = 5) -> list:
    return [(x, int(np.argmax(y))) for x, y in pictures(n, seed, n_in, n_out)]


def seeded(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)


def params(net: network.Network | BookNetwork | ExactNetwork) -> list[np.ndarray]:
    return [*net.weights, *net.biases]


def assert_close(ours: list[np.ndarray], book: list[np.ndarray]) -> None:
    for a, b in zip(ours, book, strict=True):
        assert a.shape == b.shape
        assert np.allclose(a, b, **TIGHT), np.abs(a - b).max()


def book_run(seed: int, sizes: list[int], training: list, *args: object, **kw: object):
    seeded(seed)
    book = BookNetwork(sizes)
    lines: list[str] = []
    book.SGD(list(training), *args, say=lines.append, **kw)  # type: ignore[arg-type]
    return book, lines


# The same run as the book's code. ------------------------------------------------------


@pytest.mark.parametrize(("sizes", "zeros"), [(SIZES, 0.8), (SIZES, 0.0), (DEEP, 0.8)])
def test_exact_sgd_prints_the_books_lines_and_ends_with_its_weights(sizes, zeros, capsys):
    """Mostly-zero pixels (the sparse first layer), dense ones, and two hidden layers.

    eta = 30 makes the run chaotic enough that a last-bit difference per step (the
    engine's tanh sigmoid, say) grows past TIGHT within these 10 epochs.
    """
    training = pictures(57, seed=1, n_in=sizes[0], n_out=sizes[-1], zeros=zeros)  # last batch: 1
    test = labelled(40, seed=2, n_in=sizes[0], n_out=sizes[-1])
    seeded(3)
    net, ours = network.Network(sizes), list(training)
    net.SGD(ours, 10, 4, 30.0, test_data=test, exact=True)
    lines = capsys.readouterr().out.splitlines()
    book, book_lines = book_run(3, sizes, training, 10, 4, 30.0, test_data=test)
    assert lines == book_lines and len(lines) == 10
    assert_close(params(net), params(book))
    assert all(p.dtype == np.float64 for p in params(net))


def test_the_tolerance_tells_the_books_roundings_from_the_default_paths():
    """The default matrix path takes the book's steps too, rounded otherwise: not TIGHT."""
    training = pictures(57, seed=1)
    seeded(3)
    net = network.Network(SIZES)
    net.SGD(list(training), 10, 4, 30.0)
    book, _ = book_run(3, SIZES, training, 10, 4, 30.0)
    close = [np.allclose(a, b, **TIGHT) for a, b in zip(params(net), params(book), strict=True)]
    assert not all(close)
    assert all(np.allclose(a, b, atol=0.5) for a, b in zip(params(net), params(book), strict=True))


def test_exact_steps_agree_with_the_books_after_each_mini_batch():
    seeded(4)
    book = BookNetwork(SIZES)
    ours = ExactNetwork(book.weights, book.biases)
    data = pictures(60, seed=5)
    for k, m in enumerate([1, 2, 10, 7, 3, 10, 10]):
        batch = data[k : k + m]
        book.update_mini_batch(batch, 3.0)
        x = np.concatenate([p[0].T for p in batch]).astype(np.float64)
        y = np.concatenate([p[1].T for p in batch])
        ours.update_mini_batch(x, y, 3.0)
        assert_close(params(ours), params(book))


@pytest.mark.parametrize("zeros", [0.8, 0.0])
def test_large_mini_batches_sum_their_products_piece_by_piece_in_order(monkeypatch, zeros):
    """Room for 3 outer products at a time: each mini-batch of 10 is summed in four pieces.

    The pieces are the same additions in the same order as one stack, so the run is
    compared with the one-piece run for equality: that is the property under test (a
    sum regrouped per piece would differ in the last bit, too little to fail a tolerance
    against the book here). And both against the book's algorithm, with the tolerance.
    """
    training = pictures(60, seed=22, zeros=zeros)
    nets = []
    for room in (engine_exact.PRODUCTS_BYTES, 8 * 8 * 20 * 3):
        monkeypatch.setattr(engine_exact, "PRODUCTS_BYTES", room)
        seeded(21)
        net = network.Network(SIZES)
        net.SGD(list(training), 12, 10, 30.0, exact=True)
        nets.append(net)
    one_piece, in_pieces = nets
    for a, b in zip(params(one_piece), params(in_pieces), strict=True):
        assert np.array_equal(a, b)
    book, _ = book_run(21, SIZES, training, 12, 10, 30.0)
    assert_close(params(in_pieces), params(book))


def test_a_single_output_neuron_sums_its_gradients_in_the_books_order():
    """Stacks of single numbers (here 9 samples, 1 output) must not be summed pairwise."""
    seeded(6)
    book = BookNetwork([5, 1, 1])
    ours = ExactNetwork(book.weights, book.biases)
    rng = np.random.default_rng(7)
    x, y = rng.random((9, 5)), rng.random((9, 1))
    for _ in range(20):
        book.update_mini_batch([(x[i, :, None], y[i, :, None]) for i in range(9)], 2.0)
        ours.update_mini_batch(x, y, 2.0)
    assert_close(params(ours), params(book))


def test_exact_evaluate_counts_what_the_books_evaluate_counts():
    seeded(8)
    book = BookNetwork(SIZES)
    ours = ExactNetwork(book.weights, book.biases)
    test = labelled(2_500, seed=9)  # more than one chunk
    images = np.concatenate([x.T for x, _ in test])
    labels = np.array([label for _, label in test])
    got = ours.evaluate(images, labels)
    assert got == book.evaluate(test) and 0 < got < len(test)
    assert np.allclose(ours.feedforward(images[:3])[:, :, 0], book.feedforward(images[:3].T).T)


def test_zero_pixels_are_skipped_only_while_the_gradients_are_finite():
    """0 * inf is NaN in the book's sums: with an infinite weight the skip would hide it."""
    seeded(10)
    book = BookNetwork(SIZES)
    book.weights[1][2, 3] = np.inf
    ours = ExactNetwork(book.weights, book.biases)
    batch = pictures(4, seed=11, zeros=0.9)
    x = np.concatenate([p[0].T for p in batch]).astype(np.float64)
    assert not x.any(axis=0).all()  # some columns are zero in every image
    with np.errstate(all="ignore"):
        book.update_mini_batch(batch, 3.0)
        ours.update_mini_batch(x, np.concatenate([p[1].T for p in batch]), 3.0)
    assert np.isnan(book.weights[0]).any()
    for a, b in zip(params(ours), params(book), strict=True):
        assert np.allclose(a, b, equal_nan=True, **TIGHT)


def test_a_second_exact_call_continues_like_the_books(capsys):
    training, test = pictures(30, seed=12), labelled(20, seed=13)
    seeded(14)
    net, ours = network.Network(SIZES), list(training)
    net.SGD(ours, 2, 5, 3.0, test_data=test, exact=True)
    net.SGD(ours, 2, 3, 1.0, test_data=test, exact=True)
    lines = capsys.readouterr().out.splitlines()
    seeded(14)
    book, theirs, book_lines = BookNetwork(SIZES), list(training), []
    book.SGD(theirs, 2, 5, 3.0, test_data=test, say=book_lines.append)
    book.SGD(theirs, 2, 3, 1.0, test_data=test, say=book_lines.append)
    assert lines == book_lines and len(lines) == 4
    assert [id(p) for p in ours] == [id(p) for p in theirs]  # the list is shuffled in place
    assert_close(params(net), params(book))
    net.SGD(ours, 1, 5, 3.0)  # the default path trains on from there
    assert capsys.readouterr().out == "Epoch 0 complete\n"


@pytest.mark.parametrize("error", [KeyboardInterrupt, RuntimeError])
def test_an_interrupted_exact_call_leaves_net_trained_as_far_as_it_got(error, monkeypatch):
    """Ctrl-C (or an error) after 9 mini-batches of the second epoch: those 9 steps are kept."""
    training = pictures(24, seed=15)  # 6 mini-batches of 4 per epoch
    seeded(16)
    net = network.Network(SIZES)
    step = ExactNetwork.update_mini_batch
    calls = 0

    def counted(self: ExactNetwork, x: np.ndarray, y: np.ndarray, eta: float) -> None:
        nonlocal calls
        if calls == 9:
            raise error
        calls += 1
        step(self, x, y, eta)

    monkeypatch.setattr(ExactNetwork, "update_mini_batch", counted)
    with pytest.raises(error):
        net.SGD(list(training), 3, 4, 3.0, exact=True)
    seeded(16)
    book = BookNetwork(SIZES)
    book.SGD(list(training), 3, 4, 3.0, say=lambda line: None, batches=9)
    assert_close(params(net), params(book))
    seeded(16)
    untrained = BookNetwork(SIZES)
    assert not np.allclose(net.weights[0], untrained.weights[0])


def test_exact_is_silent_when_e_to_the_minus_z_overflows(recwarn):
    """Huge eta saturates the sigmoids: e^-z overflows, as in the book, without a warning."""
    seeded(19)
    net = network.Network(SIZES)
    net.SGD(pictures(20, seed=20, zeros=0.0), 3, 2, 5_000.0, exact=True)
    assert not [w for w in recwarn if "overflow" in str(w.message)]
    assert all(np.isfinite(p).all() for p in params(net))


# Refusals: one sentence, before anything changes. ------------------------------------------


@pytest.mark.parametrize(
    ("make", "kw", "words"),
    [
        (lambda: network.Network(SIZES, dtype=np.float32), {}, "float64"),
        (lambda: network.Network(SIZES), {"watch": True}, "cannot go with watch=True"),
    ],
)
def test_exact_is_refused_with_float32_or_watch(make, kw, words):
    net = make()
    before = [p.copy() for p in params(net)]
    training = pictures(12, seed=21)
    data = list(training)
    with pytest.raises(ValueError) as exc:
        net.SGD(data, 1, 4, 3.0, exact=True, **kw)
    text = str(exc.value)
    assert words in text and "\n" not in text and len(text) < 240
    assert [id(p) for p in data] == [id(p) for p in training]  # not shuffled
    assert all(np.array_equal(a, b) for a, b in zip(params(net), before, strict=True))


def test_exact_is_keyword_only():
    net = network.Network(SIZES)
    with pytest.raises(TypeError):
        net.SGD(pictures(8, seed=22), 1, 4, 3.0, None, False, True)  # type: ignore[misc]


def test_the_exact_module_asks_for_one_weight_and_bias_per_layer():
    with pytest.raises(ValueError, match="one weight matrix and one bias per layer"):
        ExactNetwork([np.zeros((3, 2))], [])
    assert engine_exact.EVAL_CHUNK >= 1

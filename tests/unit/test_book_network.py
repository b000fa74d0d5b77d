"""The book's API (`nntui.network`, `nntui.mnist_loader`): shapes, the book's run, bad input."""

from __future__ import annotations

import math
import random
import re
import subprocess
import sys

import numpy as np
import pytest

from nntui.book import mnist_loader, network
from nntui.book import pairs as pairs_mod
from tests.book_reference import BookNetwork

SIZES = [6, 5, 3]


def pairs(n: int, seed: int = 0, sizes: list[int] = SIZES) -> list[tuple[np.ndarray, np.ndarray]]:
    """n training pairs for a small net: x a float32 column, y a one-hot column."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        label = int(rng.integers(sizes[-1]))
        y = np.zeros((sizes[-1], 1))
        y[label] = 1.0
        out.append((rng.random((sizes[0], 1)).astype(np.float32), y))
    return out


def labelled(n: int, seed: int = 1) -> list[tuple[np.ndarray, int]]:
    return [(x, int(np.argmax(y))) for x, y in pairs(n, seed)]


def seeded(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)


# The API's shapes and types. ----------------------------------------------------------


def test_a_network_has_the_books_attributes():
    net = network.Network([784, 30, 10])
    assert net.num_layers == 3 and net.sizes == [784, 30, 10]
    assert [b.shape for b in net.biases] == [(30, 1), (10, 1)]
    assert [w.shape for w in net.weights] == [(30, 784), (10, 30)]
    assert all(p.dtype == np.float64 for p in (*net.biases, *net.weights))


def test_feedforward_takes_a_column_or_a_batch():
    net = network.Network([784, 30, 10])
    assert net.feedforward(np.zeros((784, 1), np.float32)).shape == (10, 1)
    out = net.feedforward(np.zeros((784, 7)))
    assert out.shape == (10, 7) and np.all((out > 0) & (out < 1))


def test_sigmoid_and_its_derivative_are_the_books():
    z = np.linspace(-30, 30, 61)
    assert np.allclose(network.sigmoid(z), 1 / (1 + np.exp(-z)))
    s = 1 / (1 + np.exp(-z))
    assert np.allclose(network.sigmoid_prime(z), s * (1 - s))


def test_the_parameters_are_the_books_draws():
    seeded(5)
    ours = network.Network([7, 4, 3, 2])
    seeded(5)
    book = BookNetwork([7, 4, 3, 2])
    for a, b in zip([*ours.biases, *ours.weights], [*book.biases, *book.weights], strict=True):
        assert np.array_equal(a, b)


def test_backprop_and_update_mini_batch_agree_with_the_books():
    seeded(2)
    ours = network.Network(SIZES)
    seeded(2)
    book = BookNetwork(SIZES)
    x, y = pairs(1)[0]
    nb, nw = ours.backprop(x, y)
    rb, rw = book.backprop(x.astype(np.float64), y)
    assert all(np.allclose(a, b) for a, b in zip([*nb, *nw], [*rb, *rw], strict=True))
    batch = pairs(4, seed=3)
    ours.update_mini_batch(batch, 0.5)
    book.update_mini_batch(batch, 0.5)
    assert all(np.allclose(a, b) for a, b in zip(ours.weights, book.weights, strict=True))
    assert all(np.allclose(a, b) for a, b in zip(ours.biases, book.biases, strict=True))


def test_evaluate_returns_an_int_and_cost_derivative_is_a_minus_y():
    net = network.Network(SIZES)
    test = labelled(20)
    correct = net.evaluate(test)
    assert type(correct) is int and 0 <= correct <= 20
    assert correct == sum(int(np.argmax(net.feedforward(x)) == y) for x, y in test)
    a, y = np.array([[0.2], [0.9]]), np.array([[0.0], [1.0]])
    assert np.allclose(net.cost_derivative(a, y), a - y)


# SGD: the book's lines and the book's run. -------------------------------------------------


def test_sgd_prints_the_books_lines(capsys):
    net = network.Network(SIZES)
    net.SGD(pairs(30), 3, 4, 3.0, test_data=labelled(12))
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    for j, line in enumerate(lines):
        assert re.fullmatch(rf"Epoch {j}: \d+ / 12", line)
    net.SGD(pairs(30), 2, 4, 3.0)
    assert capsys.readouterr().out.splitlines() == ["Epoch 0 complete", "Epoch 1 complete"]
    net.SGD(pairs(30), 1, 4, 3.0, test_data=[])  # the book's `if test_data:`
    assert capsys.readouterr().out == "Epoch 0 complete\n"


@pytest.mark.parametrize("seed", [0, 7])
def test_sgd_takes_the_books_steps_under_the_same_seeds(seed, capsys):
    """Same draws, same random.shuffle of the caller's list, same consecutive mini-batches."""
    training, test = pairs(23, seed=seed), labelled(15)  # 23: the last mini-batch is short
    seeded(seed)
    ours, our_list = network.Network(SIZES), list(training)
    ours.SGD(our_list, 2, 4, 2.0, test_data=test)
    our_lines = capsys.readouterr().out.splitlines()
    seeded(seed)
    book, book_list = BookNetwork(SIZES), list(training)
    book_lines: list[str] = []
    book.SGD(book_list, 2, 4, 2.0, test_data=test, say=book_lines.append)
    assert [id(p) for p in our_list] == [id(p) for p in book_list]  # shuffled alike, in place
    assert [id(p) for p in our_list] != [id(p) for p in training]  # and really shuffled
    for a, b in zip([*ours.weights, *ours.biases], [*book.weights, *book.biases], strict=True):
        assert np.allclose(a, b, rtol=1e-9, atol=1e-12)
    assert our_lines == book_lines
    assert random.random() == pytest.approx(_after_same_draws(seed, 23, 2))


def _after_same_draws(seed: int, n: int, epochs: int) -> float:
    # Python's random is left where the book's would leave it: one shuffle of n per epoch.
    random.seed(seed)
    order = list(range(n))
    for _ in range(epochs):
        random.shuffle(order)
    return random.random()


def test_a_list_can_be_sliced_measured_and_trained_on_twice(tiny_data_file, capsys):
    training, validation, test = mnist_loader.load_data_wrapper(tiny_data_file)
    assert isinstance(training, list) and len(training) == 500
    assert len(validation) == 100 and len(test) == 100
    assert len(training[:100]) == 100
    net = network.Network([784, 30, 10])
    net.SGD(training[:200], 1, 10, 3.0, test_data=test)
    net.SGD(training, 2, 10, 3.0, test_data=test)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == ["Epoch 0", "Epoch 0", "Epoch 1"]
    assert int(lines[-1].split()[2]) > 50  # the blobs are learnable: well above chance
    assert len(training) == 500


def test_a_mini_batch_larger_than_the_data_is_all_of_it(capsys):
    seeded(4)
    big = network.Network(SIZES)
    big.SGD(pairs(9), 2, 10**12, 1.0)
    seeded(4)
    whole = network.Network(SIZES)
    whole.SGD(pairs(9), 2, 9, 1.0)
    assert all(np.allclose(a, b) for a, b in zip(big.weights, whole.weights, strict=True))


def test_float32_is_an_opt_in():
    net = network.Network([784, 30, 10], dtype=np.float32)
    assert all(p.dtype == np.float32 for p in (*net.biases, *net.weights))
    net.SGD(pairs(20, sizes=[784, 30, 10]), 1, 5, 3.0)


# The loader. ------------------------------------------------------------------------------


def test_the_loader_gives_the_books_formats(tiny_data_file):
    (tr_x, tr_y), (va_x, _), (te_x, te_y) = mnist_loader.load_data(tiny_data_file)
    assert tr_x.shape == (500, 784) and tr_x.dtype == np.float32
    assert tr_y.shape == (500,) and tr_y.dtype.kind in "iu"
    assert va_x.shape == te_x.shape == (100, 784)
    training, validation, test = mnist_loader.load_data_wrapper(tiny_data_file)
    x, y = training[0]
    assert x.shape == (784, 1) and x.dtype == np.float32 and np.array_equal(x[:, 0], tr_x[0])
    assert y.shape == (10, 1) and y.sum() == 1.0 and y[tr_y[0], 0] == 1.0
    x, label = test[3]
    assert x.shape == (784, 1) and type(label) is int and label == te_y[3]
    assert type(validation[0][1]) is int


def test_vectorized_result():
    e = mnist_loader.vectorized_result(3)
    assert e.shape == (10, 1) and e[3, 0] == 1.0 and e.sum() == 1.0
    with pytest.raises(ValueError, match="digit from 0 to 9"):
        mnist_loader.vectorized_result(10)


def test_importing_nntui_loads_no_numpy_until_the_book_is_asked_for():
    code = (
        "import sys, nntui\n"
        "assert 'numpy' not in sys.modules\n"
        "from nntui import mnist_loader, network\n"
        "assert 'textual' not in sys.modules  # the dashboard loads only for watch=True\n"
        "print(network.Network.__name__, mnist_loader.load_data_wrapper.__name__)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["Network", "load_data_wrapper"]


# Bad input: one clear sentence, at once. -----------------------------------------------------


def one_sentence(exc: pytest.ExceptionInfo[BaseException]) -> str:
    text = str(exc.value)
    assert "\n" not in text and len(text) < 240
    return text


@pytest.mark.parametrize(
    ("args", "error", "words"),
    [
        (
            dict(epochs=1, mini_batch_size=0, eta=3.0),
            ValueError,
            "mini_batch_size must be at least 1",
        ),
        (
            dict(epochs=1, mini_batch_size=2.5, eta=3.0),
            TypeError,
            "mini_batch_size must be a whole",
        ),
        (dict(epochs=-1, mini_batch_size=2, eta=3.0), ValueError, "epochs must be at least 0"),
        (
            dict(epochs=1, mini_batch_size=2, eta=math.nan),
            ValueError,
            "eta must be a finite number",
        ),
        (
            dict(epochs=1, mini_batch_size=2, eta=math.inf),
            ValueError,
            "eta must be a finite number",
        ),
        (dict(epochs=1, mini_batch_size=2, eta=0.0), ValueError, "greater than 0"),
        (dict(epochs=1, mini_batch_size=2, eta="3.0"), TypeError, "eta must be a number"),
        (
            dict(epochs=1, mini_batch_size=2, eta=3.0, exact="no"),
            TypeError,
            "exact must be True or False, got 'no'",
        ),
        (
            dict(epochs=1, mini_batch_size=2, eta=3.0, watch=1),
            TypeError,
            "watch must be True or False, got 1",
        ),
    ],
)
def test_bad_settings_are_refused_before_training(args, error, words):
    net = network.Network(SIZES)
    before = [w.copy() for w in net.weights]
    data = pairs(10)
    with pytest.raises(error) as exc:
        net.SGD(data, **args)
    assert words in one_sentence(exc)
    assert all(np.array_equal(a, b) for a, b in zip(before, net.weights, strict=True))


def test_sizes_that_do_not_match_the_data_are_refused(tiny_data_file):
    training, _, _ = mnist_loader.load_data_wrapper(tiny_data_file)
    net = network.Network([100, 10])
    with pytest.raises(ValueError) as exc:
        net.SGD(training, 1, 10, 3.0)
    assert "(784, 1)" in one_sentence(exc) and "(100, 1)" in str(exc.value)


def _uneven(two: list, part: int) -> list:
    """Two pairs whose x (part 0) or y (part 1) are one too short and one too long."""
    (a, b) = two
    short, long = list(a), list(b)
    short[part] = a[part][:-1]
    long[part] = np.concatenate([b[part], b[part][:1]])
    return [tuple(short), tuple(long)]


@pytest.mark.parametrize(
    ("make", "error", "words"),
    [
        (lambda p: zip(*zip(*p, strict=True), strict=True), TypeError, "list(...)"),
        (lambda p: [], ValueError, "training_data is empty"),
        (lambda p: [*p[:3], (p[3][0][:4], p[3][1]), *p[4:]], ValueError, "pair 3 has shape (4, 1)"),
        (lambda p: [(x, int(np.argmax(y))) for x, y in p], TypeError, "vectorized_result"),
        (lambda p: [(x, y[:2]) for x, y in p], ValueError, "the y of pair 0 has shape (2, 1)"),
        # Lengths that make up for each other still name the first wrong pair.
        (lambda p: [*_uneven(p[:2], 0), *p[2:]], ValueError, "the x of pair 0 has shape (5, 1)"),
        (
            lambda p: [*p[:4], *_uneven(p[4:6], 1), *p[6:]],
            ValueError,
            "y of pair 4 has shape (2, 1)",
        ),
        (lambda p: [(x,) for x, y in p], TypeError, "(x, y) pairs; item 0"),
        (lambda p: [("abc", y) for x, y in p], TypeError, "must be an array of numbers"),
        (lambda p: np.zeros((5, 6)), TypeError, "must be a list of (x, y) pairs"),
        (tuple, TypeError, "SGD shuffles it in place"),
    ],
)
def test_bad_training_data_is_refused_in_one_sentence(make, error, words):
    net = network.Network(SIZES)
    with pytest.raises(error) as exc:
        net.SGD(make(pairs(8)), 1, 2, 3.0)
    assert words in one_sentence(exc)


@pytest.mark.parametrize(
    ("sizes", "error"),
    [
        ([784], ValueError),
        ([784, 0, 10], ValueError),
        ([784, 2.5, 10], ValueError),
        ("784", TypeError),
    ],
)
def test_bad_sizes_are_refused(sizes, error):
    with pytest.raises(error) as exc:
        network.Network(sizes)
    assert "[784, 30, 10]" in one_sentence(exc)


def test_test_data_that_is_a_zip_is_refused_in_one_sentence():
    net = network.Network(SIZES)
    test = zip([x for x, _ in labelled(5)], range(5), strict=True)
    with pytest.raises(TypeError) as exc:
        net.SGD(pairs(8), 1, 2, 3.0, test_data=test)
    assert "test_data must be a list" in one_sentence(exc) and "list(...)" in str(exc.value)


def test_bad_inputs_to_the_other_methods():
    net = network.Network(SIZES)
    with pytest.raises(ValueError, match=r"shape \(6, 1\)"):
        net.feedforward(np.zeros(6))
    with pytest.raises(ValueError, match="test_data: the x of pair 0"):
        net.evaluate([(np.zeros((5, 1)), 1)])
    with pytest.raises(ValueError, match=r"backprop's y must have shape \(3, 1\)"):
        net.backprop(np.zeros((6, 1)), np.zeros((4, 1)))
    with pytest.raises(ValueError, match="dtype"):
        network.Network(SIZES, dtype=np.int32)
    with pytest.raises(ValueError, match=r"weights\[1\] must have shape \(3, 5\)"):
        net.weights = [np.zeros((5, 6)), np.zeros((5, 3))]


def test_assigning_weights_and_biases_as_the_book_does_changes_what_trains():
    net = network.Network(SIZES)
    net.weights = [np.zeros_like(w) for w in net.weights]
    net.biases = [np.zeros_like(b) for b in net.biases]
    assert all(not p.any() for p in net.engine.params)  # the engine's [w | b] arrays themselves
    assert np.allclose(net.feedforward(np.ones((6, 1))), 0.5)
    net.update_mini_batch(pairs(4), 1.0)
    # Only the last layer learns from all-zero weights: no error flows back through zeros.
    assert net.engine.params[-1].any() and not net.engine.params[0].any()


def test_training_lists_longer_than_the_dashboards_cap_train(capsys):
    """The book's API takes any length; only the dashboard stops at 50,000 images."""
    rng = np.random.default_rng(0)
    xs = rng.random((50_001, 2, 1))
    data = [(x, np.array([[1.0], [0.0]])) for x in xs]
    net = network.Network([2, 3, 2])
    net.SGD(data, 1, 1_000, 1.0)
    assert capsys.readouterr().out == "Epoch 0 complete\n"
    assert len(data) == 50_001


def _poisoned(p: list, i: int, value: float, part: int) -> list:
    bad = [(x.copy(), y.copy()) for x, y in p]
    bad[i][part][1, 0] = value
    return bad


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda p: _poisoned(p, 3, np.nan, 0), "the x of pair 3 holds NaN or infinity"),
        (lambda p: _poisoned(p, 5, np.inf, 0), "the x of pair 5 holds NaN or infinity"),
        (lambda p: _poisoned(p, 2, np.nan, 1), "the y of pair 2 holds NaN or infinity"),
    ],
)
def test_training_data_with_nan_or_infinity_is_refused_before_training(make, words):
    net = network.Network(SIZES)
    before = [w.copy() for w in net.weights]
    with pytest.raises(ValueError) as exc:
        net.SGD(make(pairs(8)), 1, 2, 3.0)
    assert words in one_sentence(exc)
    assert all(np.array_equal(a, b) for a, b in zip(before, net.weights, strict=True))


@pytest.mark.parametrize("label", [3, -1])
def test_test_data_labels_outside_the_outputs_are_refused(label):
    net = network.Network(SIZES)  # three outputs: labels 0, 1, 2
    tests = [*labelled(4), (labelled(1)[0][0], label)]
    with pytest.raises(ValueError) as exc:
        net.SGD(pairs(8), 1, 2, 3.0, test_data=tests)
    assert f"the label of pair 4 is {label}" in one_sentence(exc) and "0 to 2" in str(exc.value)


def test_test_data_with_nan_is_refused():
    net = network.Network(SIZES)
    tests = labelled(4)
    tests[1][0][0, 0] = np.nan
    with pytest.raises(ValueError) as exc:
        net.evaluate(tests)
    assert "the x of pair 1 holds NaN" in one_sentence(exc)


def test_a_network_too_big_for_memory_is_refused_before_drawing_a_weight(monkeypatch):
    monkeypatch.setattr(network, "available_memory", lambda: 2 * 2**30)

    def no_draw(*shape: int) -> np.ndarray:
        raise AssertionError("drew weights for a network that cannot fit")

    monkeypatch.setattr(np.random, "randn", no_draw)
    with pytest.raises(ValueError) as exc:
        network.Network([784, 10**7, 10])
    text = one_sentence(exc)
    assert "needs about 236.9 GB" in text and "2.0 GB is available" in text


@pytest.mark.parametrize("exact", [False, True])
def test_weights_that_hold_nan_stop_sgd_with_a_warning(capsys, exact):
    net = network.Network(SIZES)
    # Sigmoids saturate, so even huge eta and inputs keep the weights finite; a NaN gets
    # in by assignment (the book's attributes can be set), and then spreads to them all.
    biases = [b.copy() for b in net.biases]
    biases[0][0, 0] = np.nan
    net.biases = biases
    with pytest.warns(RuntimeWarning, match="no longer finite numbers .* after epoch 0"):
        net.SGD(pairs(20), 30, 2, 3.0, test_data=labelled(5), exact=exact)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Epoch 0: ")  # not 29 more useless epochs


def test_columns_given_as_nested_lists_train_like_arrays(capsys):
    seeded(3)
    as_arrays = network.Network(SIZES)
    seeded(3)
    as_lists = network.Network(SIZES)
    data = pairs(12)
    seeded(4)
    as_arrays.SGD(list(data), 2, 3, 3.0)
    seeded(4)
    as_lists.SGD([(x.tolist(), y.tolist()) for x, y in data], 2, 3, 3.0)
    for a, b in zip(as_arrays.weights, as_lists.weights, strict=True):
        assert np.allclose(a, b)


@pytest.mark.parametrize(
    ("call", "error", "words"),
    [
        (lambda net, p: net.SGD(p, 1, 2, 10**400), ValueError, "too large for a float"),
        (
            lambda net, p: net.SGD([(x.astype(complex), y) for x, y in p], 1, 2, 3.0),
            TypeError,
            "got complex128 values",
        ),
        (lambda net, p: network.Network(SIZES, dtype="garbage"), ValueError, "np.float32"),
    ],
)
def test_more_bad_inputs_are_one_sentence(call, error, words):
    with pytest.raises(error) as exc:
        call(network.Network(SIZES), pairs(6))
    assert words in one_sentence(exc)


# The loader's images are read where they are, not copied. ------------------------------------


def _copied(data: list) -> list:
    return [(np.array(x), y) for x, y in data]


@pytest.mark.parametrize("exact", [False, True])
def test_the_loaders_views_train_like_copies_of_them(tiny_data_file, capsys, exact):
    """In order (a slice of the loader's array), then shuffled (rows looked up): as copies."""
    training, _, test = mnist_loader.load_data_wrapper(tiny_data_file)
    runs = []
    for data in (list(training[:300]), _copied(training[:300])):
        seeded(11)
        net = network.Network([784, 12, 10])
        net.SGD(data, 2, 10, 3.0, test_data=test, exact=exact)
        net.SGD(data, 1, 10, 3.0, test_data=_copied(test)[::-1], exact=exact)  # data shuffled
        runs.append((net, capsys.readouterr().out.splitlines()))
    (a, lines_a), (b, lines_b) = runs
    assert lines_a == lines_b and len(lines_a) == 3
    for p, q in zip([*a.weights, *a.biases], [*b.weights, *b.biases], strict=True):
        assert np.allclose(p, q, rtol=1e-12, atol=1e-13)


def test_images_that_are_rows_of_one_array_are_found_there():
    base = np.random.default_rng(0).random((9, 6)).astype(np.float32)
    views = [(base[i].reshape(6, 1), np.eye(3)[[i % 3]].T) for i in range(9)]
    source, rows, _ = pairs_mod.training_images(views[2:7], 6, 3, np.dtype(np.float64))
    assert rows is None and np.shares_memory(source, base) and np.array_equal(source, base[2:7])
    shuffled = [views[i] for i in (4, 0, 8, 3)]
    source, rows, _ = pairs_mod.training_images(shuffled, 6, 3, np.dtype(np.float64))
    assert source is base and rows is not None and rows.tolist() == [4, 0, 8, 3]


@pytest.mark.parametrize(
    "make",
    [
        # Columns of a square array: (6, 1) views of it, but not its rows.
        lambda m: [m[:, i : i + 1] for i in range(6)],
        # Rows seen as another type, and rows with one array of the caller's own among them.
        lambda m: [m[i].view(np.int64).reshape(6, 1) for i in range(6)],
        lambda m: [*(m[i].reshape(6, 1) for i in range(5)), m[5].reshape(6, 1).copy()],
    ],
)
def test_views_that_are_not_plain_rows_are_copied(make):
    square = np.random.default_rng(1).random((6, 6))
    xs = make(square)
    data = [(x, np.eye(3)[[i % 3]].T) for i, x in enumerate(xs)]
    expected = np.stack([np.asarray(x, dtype=np.float64).reshape(6) for x in xs])
    x, _ = pairs_mod.training_arrays(data, 6, 3, np.dtype(np.float64))
    assert np.array_equal(x, expected)


def test_nan_in_the_loaders_array_names_the_pair_in_the_callers_order():
    base = np.random.default_rng(2).random((8, 6))
    base[5, 2] = np.nan
    data = [(base[i].reshape(6, 1), np.eye(3)[[i % 3]].T) for i in (7, 1, 5, 0)]
    with pytest.raises(ValueError) as exc:
        network.Network(SIZES).SGD(data, 1, 2, 3.0)
    assert "the x of pair 2 holds NaN" in one_sentence(exc)
    data = [(base[i].reshape(6, 1), np.eye(3)[[i % 3]].T) for i in (7, 1, 6, 0)]
    network.Network(SIZES).SGD(data, 1, 2, 3.0)  # row 5 unused: trains

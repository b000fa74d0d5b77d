"""The network's maths: gradients checked against finite differences and the book's loop."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from nntui.engine.network import Network, sigmoid, sigmoid_prime


def batch(rng: np.random.Generator, m: int, sizes: list[int], dtype=np.float64):
    x = rng.random((sizes[0], m)).astype(dtype)
    y = np.zeros((sizes[-1], m), dtype)
    y[rng.integers(0, sizes[-1], m), np.arange(m)] = 1.0
    return x, y


def total_cost(net: Network, x: np.ndarray, y: np.ndarray) -> float:
    diff = net.feedforward(x) - y
    return 0.5 * float(np.sum(diff * diff))


def test_sigmoid_matches_the_book_formula_and_never_overflows():
    z = np.linspace(-30, 30, 601)
    np.testing.assert_allclose(sigmoid(z), 1.0 / (1.0 + np.exp(-z)), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(sigmoid_prime(z), sigmoid(z) * (1 - sigmoid(z)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = sigmoid(np.array([-1e30, -1e5, 1e5, 1e30], dtype=np.float32))
    np.testing.assert_array_equal(s, [0.0, 0.0, 1.0, 1.0])


@pytest.mark.parametrize("sizes", [[6, 5, 3], [6, 3], [5, 4, 4, 3]])
def test_backprop_matches_finite_differences(sizes):
    rng = np.random.default_rng(1)
    net = Network(sizes, seed=2, dtype=np.float64)
    x, y = batch(rng, 4, sizes)
    nabla_b, nabla_w = net.backprop(x, y)
    eps = 1e-6
    for params, grads in ((net.weights, nabla_w), (net.biases, nabla_b)):
        for p, g in zip(params, grads, strict=True):
            numeric = np.zeros_like(p)
            for idx in np.ndindex(p.shape):
                old = p[idx]
                p[idx] = old + eps
                up = total_cost(net, x, y)
                p[idx] = old - eps
                down = total_cost(net, x, y)
                p[idx] = old
                numeric[idx] = (up - down) / (2 * eps)
            np.testing.assert_allclose(g, numeric, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_matrix_backprop_equals_sum_of_per_sample_backprops(dtype):
    sizes = [784, 30, 10]
    rng = np.random.default_rng(3)
    net = Network(sizes, seed=4, dtype=dtype)
    x, y = batch(rng, 10, sizes, dtype)
    nabla_b, nabla_w = net.backprop(x, y)
    sum_b = [np.zeros_like(b) for b in net.biases]
    sum_w = [np.zeros_like(w) for w in net.weights]
    for j in range(10):
        db, dw = net.backprop_single(x[:, j : j + 1], y[:, j : j + 1])
        sum_b = [s + d for s, d in zip(sum_b, db, strict=True)]
        sum_w = [s + d for s, d in zip(sum_w, dw, strict=True)]
    tol = 1e-10 if dtype == np.float64 else 1e-4
    for got, want in zip(nabla_b + nabla_w, sum_b + sum_w, strict=True):
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


def test_update_mini_batch_is_the_books_rule_and_equals_the_per_sample_update():
    sizes = [784, 30, 10]
    rng = np.random.default_rng(5)
    x, y = batch(rng, 10, sizes)
    a, b = Network(sizes, seed=6, dtype=np.float64), Network(sizes, seed=6, dtype=np.float64)
    before = [w.copy() for w in a.weights]
    _nabla_b, nabla_w = a.backprop(x, y)
    cost_a = a.update_mini_batch(x, y, eta=3.0)
    cost_b = b.update_mini_batch_per_sample(x, y, eta=3.0)
    # w -> w - (eta/m) sum_x dC_x/dw  (Eq. 20)
    np.testing.assert_allclose(a.weights[0], before[0] - 0.3 * nabla_w[0], rtol=1e-12)
    for p, q in zip(a.weights + a.biases, b.weights + b.biases, strict=True):
        np.testing.assert_allclose(p, q, rtol=1e-10, atol=1e-12)
    assert cost_a == pytest.approx(cost_b, rel=1e-10)
    assert cost_a == pytest.approx(total_cost(Network(sizes, seed=6, dtype=np.float64), x, y))


def test_a_step_of_gradient_descent_lowers_the_cost():
    sizes = [784, 30, 10]
    rng = np.random.default_rng(7)
    x, y = batch(rng, 20, sizes, np.float32)
    net = Network(sizes, seed=8)
    before = total_cost(net, x, y)
    net.update_mini_batch(x, y, eta=0.5)
    assert total_cost(net, x, y) < before


def test_seeds_make_runs_repeatable_and_differ_between_seeds():
    a, b, c = (
        Network([784, 30, 10], seed=1),
        Network([784, 30, 10], seed=1),
        Network([784, 30, 10], seed=2),
    )
    np.testing.assert_array_equal(a.weights[0], b.weights[0])
    assert not np.array_equal(a.weights[0], c.weights[0])
    assert a.weights[0].dtype == np.float32 and a.biases[1].shape == (10, 1)
    # Weights are drawn N(0, 1) like the book.
    assert abs(float(a.weights[0].std()) - 1.0) < 0.02


def test_huge_eta_trains_without_numpy_warnings():
    sizes = [784, 30, 10]
    rng = np.random.default_rng(9)
    net = Network(sizes, seed=10)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for eta in (100.0, 1e6):
            for _ in range(20):
                x, y = batch(rng, 10, sizes, np.float32)
                net.update_mini_batch(x, y, eta)
        net.predict(rng.random((5, 784)).astype(np.float32))
    assert net.is_finite()


def test_evaluate_counts_argmax_matches():
    net = Network([4, 3], seed=0, dtype=np.float64)
    net.weights[0][:] = np.eye(3, 4) * 10
    net.biases[0][:] = 0
    images = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]], dtype=np.float64)
    assert list(net.predict(images)) == [0, 1, 2]
    assert net.evaluate(images, np.array([0, 1, 0])) == 2


def test_copy_and_from_parameters_are_independent():
    net = Network([784, 30, 10], seed=0)
    twin = net.copy()
    twin.weights[0] += 1
    assert not np.array_equal(net.weights[0], twin.weights[0])
    assert twin.sizes == [784, 30, 10] and twin.dtype == np.float32


def test_weights_and_biases_are_views_of_the_folded_parameters_and_survive_pickling():
    import pickle

    net = Network([6, 4, 3], seed=5)
    assert all(np.shares_memory(w, p) for w, p in zip(net.weights, net.params, strict=True))
    assert all(np.shares_memory(b, p) for b, p in zip(net.biases, net.params, strict=True))
    rng = np.random.default_rng(0)
    x, y = rng.random((6, 5)).astype(np.float32), np.eye(3, 5, dtype=np.float32)
    back = pickle.loads(pickle.dumps(net))
    before = [w.copy() for w in back.weights]
    back.update_mini_batch(x, y, eta=1.0)  # must move the weights the views show
    assert not np.array_equal(back.weights[0], before[0])
    assert np.array_equal(back.params[0][:, :-1], back.weights[0])
    net.update_mini_batch(x, y, eta=1.0)
    for a, b in zip(net.params, back.params, strict=True):
        assert np.array_equal(a, b)  # same numbers, same code path: the same result


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_folded_bias_step_matches_the_unfolded_formula(dtype):
    # w a + b computed as one product [w | b][a; 1] rounds a little differently from
    # the two steps, so the comparison has a tolerance; the maths is the same.
    net = Network([5, 4, 3], seed=2, dtype=dtype)
    rng = np.random.default_rng(1)
    x, y = rng.random((5, 7)).astype(dtype), np.eye(3, 7, dtype=dtype)
    nabla_b, nabla_w = net.backprop(x, y)
    w0, b0 = [w.copy() for w in net.weights], [b.copy() for b in net.biases]
    net.update_mini_batch(x, y, eta=0.7)
    for w, w_before, nw in zip(net.weights, w0, nabla_w, strict=True):
        np.testing.assert_allclose(w, w_before - 0.1 * nw, rtol=1e-5, atol=1e-6)
    for b, b_before, nb in zip(net.biases, b0, nabla_b, strict=True):
        np.testing.assert_allclose(b, b_before - 0.1 * nb, rtol=1e-5, atol=1e-6)

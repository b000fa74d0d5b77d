"""The first layer's one-pass update: p -= d @ x in place, as the two passes give it."""

from __future__ import annotations

import numpy as np
import pytest

from nntui.engine import blas
from nntui.engine.network import Network


@pytest.fixture(params=[np.float32, np.float64])
def case(request):
    dtype = request.param
    rng = np.random.default_rng(5)
    p = rng.standard_normal((30, 785)).astype(dtype)
    d = (0.01 * rng.standard_normal((30, 10))).astype(dtype)
    x = rng.random((10, 785)).astype(dtype)
    return p, d, x


def test_the_update_is_made_in_place_in_the_weights_themselves(case):
    p, d, x = case
    expected = p - d @ x
    before = p.copy()
    update = blas.subtract_product(p, d, np.empty_like(p))
    update(x)
    assert blas.in_place_available(p.dtype)  # SciPy is a dependency: the one-pass path runs
    # Another BLAS library may sum in another order: equal up to rounding.
    np.testing.assert_allclose(p, expected, rtol=1e-5 if p.dtype == np.float32 else 1e-12)
    assert not np.array_equal(p, before)
    # d is read at each call, so a buffer refilled every mini-batch is seen.
    d *= 0
    after = p.copy()
    update(x)
    np.testing.assert_array_equal(p, after)


def test_without_an_in_place_gemm_the_two_passes_are_used(case, monkeypatch):
    p, d, x = case
    monkeypatch.setattr(blas, "_gemm", lambda dtype: None)
    expected = p.copy()
    np.subtract(expected, np.matmul(d, x), out=expected)  # the very operations of the fallback
    scratch = np.empty_like(p)
    blas.subtract_product(p, d, scratch)(x)
    np.testing.assert_array_equal(p, expected)


def test_arrays_gemm_cannot_update_in_place_take_the_two_passes(case):
    p, d, x = case
    strided = np.asfortranarray(p)  # not C-ordered: its transpose is not what BLAS writes
    expected = strided - d @ x
    blas.subtract_product(strided, d, np.empty_like(p))(x)
    np.testing.assert_allclose(strided, expected, rtol=1e-5 if p.dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_step_without_kept_gradients_is_the_same_step(dtype):
    rng = np.random.default_rng(2)
    x1 = np.ones((785, 10), dtype)
    x1[:-1] = rng.random((784, 10))
    y = np.eye(10, dtype=dtype)
    kept, fast = (
        Network([784, 30, 10], seed=3, dtype=dtype),
        Network([784, 30, 10], seed=3, dtype=dtype),
    )
    cost_kept = kept.update_mini_batch_with_ones(x1, y, 3.0)
    cost_fast = fast.update_mini_batch_with_ones(x1, y, 3.0, keep_gradients=False)
    assert cost_kept == pytest.approx(cost_fast, rel=1e-6)
    for a, b in zip(kept.params, fast.params, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    # The kept gradients are what the step subtracted from the weights.
    before = Network([784, 30, 10], seed=3, dtype=dtype)
    for w0, w1, u in zip(before.weights, kept.weights, kept.last_weight_updates(10), strict=True):
        np.testing.assert_allclose(w0 - w1, u, rtol=1e-4, atol=1e-6)

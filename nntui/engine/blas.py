"""The one BLAS call NumPy does not offer: ``p -= d @ x`` in place, in a single pass.

The first layer's update, [w | b] -= (eta/m) delta x^T (Eqs. 20, 21 with BP3,
BP4), is the largest step of a mini-batch. NumPy's ``matmul`` can only write
its product into a new or scratch array, so the update takes two passes over
the weights: the product into a buffer, then a subtraction. BLAS's GEMM
computes C = alpha A B + beta C, and with alpha = -1, beta = 1 it subtracts the
product from the weights as it goes: 20-40% less time for that step
(``benchmarks/speed.py``). SciPy exposes GEMM as ``scipy.linalg.blas``.

The numbers are the same, bit for bit, as the two-pass update: each entry of
the product is the same sum of the same m terms, and each weight is then
rounded once, p - g, either way. `tests/unit/test_blas.py` checks it, and
`subtract_product` falls back to the two passes wherever GEMM cannot work in
place (or SciPy is missing), so the results never depend on which path ran.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

Gemm = Callable[..., np.ndarray]


@functools.cache
def _gemm(dtype: np.dtype) -> Gemm | None:
    """SciPy's GEMM for ``dtype``, if it updates a Fortran-ordered C in place here."""
    try:
        from scipy.linalg import blas
    except ImportError:  # pragma: no cover - SciPy is a dependency; kept for odd installs
        return None
    gemm: Gemm | None = {"f": blas.sgemm, "d": blas.dgemm}.get(dtype.char)
    if gemm is None:
        return None
    # Checked once, on a small case: the result must be written into C itself, and be
    # exactly the two-pass result; otherwise the two passes are used.
    rng = np.random.default_rng(0)
    p = rng.standard_normal((3, 5)).astype(dtype)
    d = rng.standard_normal((3, 2)).astype(dtype)
    x = rng.standard_normal((2, 5)).astype(dtype)
    expected = p - d @ x
    out = gemm(-1.0, x.T, d.T, 1.0, p.T, 0, 0, 1)
    if not np.shares_memory(out, p) or not np.array_equal(p, expected):
        return None
    return gemm


def in_place_available(dtype: np.dtype | type[Any]) -> bool:
    """Whether `subtract_product` runs as one GEMM pass for arrays of ``dtype``."""
    return _gemm(np.dtype(dtype)) is not None


def subtract_product(
    p: np.ndarray, d: np.ndarray, scratch: np.ndarray
) -> Callable[[np.ndarray], None]:
    """Return ``update(x)`` doing ``p -= d @ x`` in place, for x of shape (m, p.shape[1]).

    ``p`` (n, k) and ``d`` (n, m) are bound once: ``d`` is read when ``update`` is
    called, so it may be a buffer refilled every mini-batch. ``scratch`` (n, k) holds
    the product when GEMM cannot work in place. ``x`` should be C-contiguous (the
    mini-batch's images as rows); any other x is copied by SciPy, which is correct
    but slower.
    """
    gemm = _gemm(p.dtype)
    c = p.T  # Fortran-ordered view of a C-ordered p: BLAS writes into it directly
    b = d.T
    if (
        gemm is None
        or not p.flags.c_contiguous
        or not p.flags.writeable
        or not d.flags.c_contiguous
        or d.dtype != p.dtype
    ):

        def two_passes(x: np.ndarray) -> None:
            np.matmul(d, x, out=scratch)
            np.subtract(p, scratch, out=p)

        return two_passes

    def one_pass(x: np.ndarray) -> None:
        # C = -1 (x^T d^T) + 1 C, that is p^T -= (d x)^T; arguments by position, as
        # keyword parsing costs more than the product at these sizes.
        gemm(-1.0, x.T, b, 1.0, c, 0, 0, 1)

    return one_pass

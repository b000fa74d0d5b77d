"""Shared fixtures: small learnable MNIST-shaped data made by the tests themselves."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from nntui.engine.dataset import MnistData
from nntui.engine.errors import DataError
from tests.fakedata import expected_data, write_book_pickle

if TYPE_CHECKING:
    from textual.pilot import Pilot

    from nntui.tui.app import NntuiApp

Dashboard = Callable[..., AbstractAsyncContextManager[tuple["NntuiApp", "Pilot[None]"]]]


@pytest.fixture(scope="session")
def tiny_data() -> MnistData:
    """500 training, 100 validation and 100 test images of blob 'digits'."""
    return expected_data(500, 100, 100, seed=0)


@pytest.fixture
def dashboard(tiny_data: MnistData) -> Dashboard:
    """The dashboard running on `tiny_data` under Textual's Pilot.

    ``async with dashboard(config=SHORT, deterministic=True) as (app, pilot):``; the
    keywords are `NntuiApp`'s, and ``size`` the terminal's (120x40 unless given).
    """

    @asynccontextmanager
    async def run(
        *, size: tuple[int, int] = (120, 40), **kwargs: Any
    ) -> AsyncIterator[tuple[NntuiApp, Pilot[None]]]:
        from nntui.tui.app import NntuiApp

        app = NntuiApp(data=tiny_data, **kwargs)
        async with app.run_test(size=size) as pilot:
            yield app, pilot

    return run


@pytest.fixture(scope="session")
def tiny_data_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same kind of data as a book-format mnist.pkl.gz on disk."""
    return write_book_pickle(tmp_path_factory.mktemp("data") / "mnist.pkl.gz", 500, 100, 100)


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Keep tests away from the user's runs, data and caches: each test gets its own dirs."""
    monkeypatch.setenv("NNTUI_RUNS", str(tmp_path_factory.mktemp("runs")))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture(scope="session")
def real_mnist() -> MnistData:
    """The real MNIST, found or downloaded the way a user's machine gets it.

    Locally, point NNTUI_DATA at a copy to skip the download. In CI (CI=true) a
    missing data set is an error, not a skip.
    """
    from nntui.data.datastore import ensure_data
    from nntui.data.mnist import load_mnist

    try:
        path = ensure_data()
    except DataError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"real MNIST not available here: {exc}")
    return load_mnist(path)

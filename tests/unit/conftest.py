"""Fixtures of the unit tests of the data layer."""

from __future__ import annotations

from pathlib import Path

import pytest

import nntui.data.datastore as store
import nntui.data.download as dl


@pytest.fixture
def local(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty local data directory, no NNTUI_DATA, and no default source that can succeed."""
    directory = tmp_path / "local"
    monkeypatch.setattr(store, "data_dir", lambda: directory)
    monkeypatch.delenv("NNTUI_DATA", raising=False)
    monkeypatch.setattr(dl, "DEFAULT_SOURCES", ())
    return directory

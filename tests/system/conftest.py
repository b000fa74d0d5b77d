"""System tests run the real thing: processes, terminals, signals, sockets, fuzzed files.

Every test here is marked `slow`, so `pytest -m "not slow"` is the quick inner loop
(unit and Pilot tests); CI runs everything.
"""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.slow)

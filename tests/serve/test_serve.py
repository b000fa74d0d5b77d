"""`nntui serve` through its websocket, as a browser tab would drive it, without a browser.

Each test starts the real server, whose tabs start real dashboards: what is
checked is processes started and ended, runs kept, exit codes, and what the
tab's terminal shows.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import time
from pathlib import Path

import pytest

pytest.importorskip("textual_serve")  # the `serve` extra (part of the `test` extra)

import aiohttp  # installed with textual-serve

from nntui.store.runs import RunStore
from tests.fakedata import write_book_pickle
from tests.serve.served import (
    EPOCH_LINE,
    READY,
    alive,
    children,
    in_group,
    serving,
    tab,
    until,
)


@pytest.fixture(scope="module")
def long_epochs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Enough images that an epoch takes a good part of a second: a tab can close mid-run."""
    return write_book_pickle(tmp_path_factory.mktemp("data") / "mnist.pkl.gz", 25_000, 5_000, 100)


def runs() -> list:
    return RunStore(os.environ["NNTUI_RUNS"]).list()


async def test_a_tab_gets_a_dashboard_that_trains_and_the_page_is_nntuis(tiny_data_file):
    with serving("--data", str(tiny_data_file)) as served:
        async with aiohttp.ClientSession() as http, http.get(served.url) as page:
            assert page.status == 200
            html = await page.text()
        assert "<title>nntui</title>" in html
        assert f"ws://{served.url.split('//')[1]}ws" in html  # the address the browser used
        async with tab(served.url) as t:
            await t.wait_for(READY)
            assert len(served.dashboards()) == 1
            await t.press(" ")
            await t.wait_for(EPOCH_LINE)
        # Closed: its dashboard ends, and the server carries on.
        assert await until(lambda: not served.dashboards(), timeout=10)
        assert served.proc.poll() is None
        code, err = served.stop(signal.SIGTERM)
    assert code == 143
    assert "Traceback" not in err


async def test_a_tab_closed_mid_epoch_ends_its_dashboard_and_keeps_the_run(long_epochs):
    with serving("--data", str(long_epochs)) as served:
        async with tab(served.url) as t:
            await t.wait_for(READY)
            (dashboard,) = served.dashboards()
            await t.press(" ")
            await t.wait_for(EPOCH_LINE, timeout=90)
            closed = time.monotonic()
        assert await until(lambda: dashboard not in children(served.proc.pid), timeout=10)
        assert time.monotonic() - closed < 10
        assert in_group(dashboard) == []  # nothing it started is left either
        (run,) = runs()
        assert run.status == "stopped"
        assert 1 <= run.epochs_done < 30
        served.stop(signal.SIGTERM)


async def test_one_tab_more_than_the_cap_gets_a_message_and_no_process(tiny_data_file):
    with serving("--data", str(tiny_data_file), "--max-sessions", "1") as served:
        async with tab(served.url) as first:
            await first.wait_for(READY)
            async with tab(served.url) as second:
                await second.wait_for(r"This nntui server is full: 1 of 1 dashboards are open")
                assert await second.wait_closed() == 1013  # try again later
            assert len(served.dashboards()) == 1
            assert first.closed_with is None
        # Its place is free again once the first tab has closed (or reloaded).
        async with tab(served.url) as third:
            await third.wait_for(READY)
        served.stop(signal.SIGTERM)


@pytest.mark.parametrize(
    ("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130), (signal.SIGHUP, 129)]
)
async def test_a_signal_ends_every_session_then_the_server(long_epochs, signum, code):
    with serving("--data", str(long_epochs)) as served:
        async with tab(served.url) as a, tab(served.url) as b:
            for t in (a, b):
                await t.wait_for(READY)
                await t.press(" ")
            for t in (a, b):
                await t.wait_for(EPOCH_LINE, timeout=90)
            dashboards = served.dashboards()
            assert len(dashboards) == 2
            exit_code, err = await asyncio.to_thread(served.stop, signum)
            # The tabs are told: their websockets are closed by the server.
            for t in (a, b):
                await t.wait_closed()
    assert exit_code == code
    assert "Traceback" not in err
    for pid in dashboards:
        assert in_group(pid) == []
    stored = runs()
    assert len(stored) == 2 and {r.status for r in stored} == {"stopped"}


async def test_a_dropped_connection_is_noticed_by_the_heartbeat(tiny_data_file):
    with serving("--data", str(tiny_data_file)) as served:
        async with tab(served.url) as t:
            await t.wait_for(READY)
            (dashboard,) = served.dashboards()
            # The tab stops answering pings: its network went away without a close.
            t.stop_answering_pings()
            silent = time.monotonic()
            assert await until(lambda: dashboard not in children(served.proc.pid), timeout=15)
            assert time.monotonic() - silent < 15
        served.stop(signal.SIGTERM)


async def test_dashboards_end_when_the_server_is_killed(tiny_data_file):
    # SIGKILL leaves the server no chance to end its sessions: each dashboard
    # notices by itself that its server is gone.
    with serving("--data", str(tiny_data_file)) as served:
        async with tab(served.url) as t:
            await t.wait_for(READY)
            (dashboard,) = served.dashboards()
            served.proc.kill()
            served.proc.wait()
            assert await until(lambda: not alive(dashboard), timeout=15)


def test_it_listens_on_loopback_only_by_default(tiny_data_file):
    with serving("--data", str(tiny_data_file)) as served:
        port = int(served.url.rstrip("/").rsplit(":", 1)[1])
        listening = _listening(port)
        served.stop(signal.SIGTERM)
    assert listening == {"127.0.0.1"}


def _listening(port: int) -> set[str]:
    """The local addresses with a socket listening on ``port`` (from /proc/net/tcp*)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, _, state = line.split()[1:4]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                if len(address) == 8:
                    found.add(socket.inet_ntop(socket.AF_INET, bytes.fromhex(address)[::-1]))
                else:
                    found.add(address)
    return found


async def test_a_data_path_the_shell_would_misread_reaches_the_dashboard(tiny_data_file, tmp_path):
    odd = tmp_path / "it's $(touch pwned) & `x`;.pkl.gz"
    odd.write_bytes(tiny_data_file.read_bytes())
    with serving("--data", str(odd)) as served:
        async with tab(served.url) as t:
            await t.wait_for(READY)  # the data loaded: the path came through whole
        served.stop(signal.SIGTERM)
    assert not list(Path.cwd().glob("pwned")) and not (tmp_path / "pwned").exists()


async def test_another_sites_page_gets_no_dashboard(tiny_data_file):
    with serving("--data", str(tiny_data_file)) as served:
        async with aiohttp.ClientSession() as http:
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await http.ws_connect(
                    f"{served.url}ws?width=80&height=24", headers={"Origin": "https://evil.example"}
                )
            assert refused.value.status == 403
            # A name of the attacker's that resolves to 127.0.0.1 (DNS rebinding).
            async with http.get(served.url, headers={"Host": "evil.example"}) as page:
                assert page.status == 403
        assert served.dashboards() == []
        served.stop(signal.SIGTERM)

"""A real `nntui serve` process, and browser tabs played by an aiohttp websocket client.

The client speaks textual-serve's protocol as its page does: it connects to
``/ws?width=..&height=..``, sends ``["stdin", keys]``, and gets the dashboard's
screen as binary frames of terminal output, whose text (escape sequences taken
out) is enough to find a line such as ``Epoch 1: 97 / 100``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp

ANSI = re.compile(r"\x1b\[[0-9;?<>=$]*[ -/]*[@-~]|\x1b[()][0-9A-B]|\x1b[=>]")
EPOCH_LINE = r"Epoch \d+: \d+ / \d+"
READY = "Ready"


def _live_with(field: int, value: int) -> list[int]:
    """The live processes (no zombies) whose /proc stat ``field`` (1 ppid, 2 pgrp) is ``value``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # state, ppid, pgrp, ...
        if int(fields[field]) == value and fields[0] != "Z":
            found.append(int(entry.name))
    return found


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (zombies not counted)."""
    return _live_with(1, pid)


def alive(pid: int) -> bool:
    """Running, not merely a zombie waiting to be reaped."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


def in_group(pgid: int) -> list[int]:
    """The live processes of process group ``pgid``."""
    return _live_with(2, pgid)


def wait_until(check, timeout: float, interval: float = 0.1) -> bool:
    """Poll ``check()`` until it is true or ``timeout`` seconds have passed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(interval)
    return bool(check())


class Served:
    """One `nntui serve` process, listening on a free port."""

    def __init__(self, proc: subprocess.Popen[str], url: str) -> None:
        self.proc = proc
        self.url = url
        self.seen: set[int] = set()  # every dashboard seen, to clean up after a failure

    def dashboards(self) -> list[int]:
        pids = children(self.proc.pid)
        self.seen.update(pids)
        return pids

    def stop(self, signum: int, timeout: float = 40.0) -> tuple[int, str]:
        """Send ``signum``; the exit code and stderr."""
        self.proc.send_signal(signum)
        _, err = self.proc.communicate(timeout=timeout)
        return self.proc.returncode, err


def serve_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "nntui", "serve", *args]


@contextlib.contextmanager
def serving(*args: str, timeout: float = 90.0) -> Iterator[Served]:
    """Start ``nntui serve --port 0 ARGS``; yield once it prints its address."""
    proc = subprocess.Popen(
        serve_command("--port", "0", *args),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    served = None
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], timeout)
        line = proc.stdout.readline() if ready else ""
        match = re.search(r"http://\S+/", line)
        assert match, f"no address printed: {line!r} {proc.poll()}"
        served = Served(proc, match.group(0))
        yield served
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        for pid in served.seen if served else ():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)


class Tab:
    """A browser tab, as textual-serve's page drives it.

    A task reads everything the server sends, as a browser does whatever the page
    is busy with, and answers the server's pings (the heartbeat) until
    `stop_answering_pings`: then the tab is like one whose network went away.
    """

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.text = ""  # everything drawn so far, escape sequences taken out
        self.closed_with: int | None = None
        self.answer_pings = True
        self._changed = asyncio.Event()
        self._reader = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        while True:
            message = await self.ws.receive()
            if message.type == aiohttp.WSMsgType.BINARY:
                self.text += ANSI.sub("", message.data.decode("utf-8", "replace"))
            elif message.type == aiohttp.WSMsgType.PING:
                if self.answer_pings:
                    await self.ws.pong(message.data)
            elif message.type in (
                aiohttp.WSMsgType.CLOSE,
                aiohttp.WSMsgType.CLOSING,
                aiohttp.WSMsgType.CLOSED,
                aiohttp.WSMsgType.ERROR,
            ):
                self.closed_with = self.ws.close_code or 0
                self._changed.set()
                return
            self._changed.set()

    def stop_answering_pings(self) -> None:
        self.answer_pings = False

    async def wait_for(self, pattern: str, timeout: float = 120.0) -> str:
        """Wait until ``pattern`` appears on the screen; the match."""
        deadline = time.monotonic() + timeout
        start = 0
        while True:
            match = re.search(pattern, self.text[start:])
            if match:
                return match.group(0)
            start = max(0, len(self.text) - 200)  # a match may straddle two frames
            left = deadline - time.monotonic()
            if left <= 0 or self.closed_with is not None:
                raise AssertionError(f"{pattern!r} not seen; last: {self.text[-400:]!r}")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), left)

    async def wait_closed(self, timeout: float = 20.0) -> int:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._reader), timeout)
        assert self.closed_with is not None, "the server did not close the tab"
        return self.closed_with

    async def press(self, keys: str) -> None:
        await self.ws.send_json(["stdin", keys])

    async def close(self) -> None:
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader
        await self.ws.close()


@contextlib.asynccontextmanager
async def tab(url: str, width: int = 120, height: int = 40):
    async with aiohttp.ClientSession() as session:
        # autoping off: `Tab` answers pings itself, so that a test can stop it.
        ws = await session.ws_connect(f"{url}ws?width={width}&height={height}", autoping=False)
        t = Tab(ws)
        try:
            yield t
        finally:
            await t.close()


async def until(check, timeout: float, interval: float = 0.1) -> bool:
    """`wait_until` for async tests: poll without blocking the event loop."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        await asyncio.sleep(interval)
    return bool(check())

"""The web server behind ``nntui serve``: textual-serve's, made safe to leave running.

textual-serve gives each browser tab a process of its own running the command,
started through a shell, talking over pipes; the page's terminal widget
(xterm.js) draws what that process writes. Its stock server lets any number of
tabs start processes, notices a dropped connection only after 15 s of silence,
and ends a session by asking the app to quit and waiting for as long as that
takes. Here:

- at most ``max_sessions`` dashboards run at once; one more tab gets a line in
  its terminal area and no process;
- the websocket heartbeat is `HEARTBEAT_SECONDS`, so a connection that drops
  without closing is noticed within 1.5 times that;
- a session ends as a closed terminal ends the dashboard (SIGHUP: the run is
  kept as "stopped"), and whatever is left of its process group after
  `ENDING_GRACE_SECONDS` is killed;
- SIGINT, SIGTERM or SIGHUP to the server is passed on to every dashboard,
  which ends the same way, before the server exits with 128 + its number.

Imported only by `nntui.cli.serve`, when the command runs: aiohttp and
textual-serve are not loaded by ``nntui`` or ``nntui train``.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import os
import signal
import textwrap
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp_jinja2
from aiohttp import WSCloseCode, WSMsgType, web
from textual_serve.app_service import AppService
from textual_serve.server import Server

from nntui.engine.errors import NntuiError

# aiohttp pings after this long without a message and gives up when no pong comes
# within half of it: a dropped connection is noticed within 4.5 s, and its dashboard
# has ended within 4.5 + ENDING_GRACE_SECONDS = 10.5 s (the issue asks for 15).
HEARTBEAT_SECONDS = 3.0
# The dashboard ends within its own grace period (5 s) of a SIGHUP; past this, it is killed.
ENDING_GRACE_SECONDS = 6.0
# Bounds for the terminal size a page asks for: a crafted request cannot make a
# dashboard lay out a screen of a billion cells.
MIN_SIZE = (20, 8)
MAX_SIZE = (500, 200)
DEFAULT_SIZE = (80, 24)
# How long a tab waits for a place on a full server before it is turned away (longer
# while the dashboard of a tab that closed, a reloaded page, say, is still ending).
PLACE_WAIT_SECONDS = 2.0
# How long a closing websocket waits for the browser's answer.
CLOSE_SECONDS = 3.0
PAGE_DIR = Path(__file__).with_name("serve_page")

Send = Callable[[Any], Awaitable[None]]


class ServeError(NntuiError):
    """The server cannot start: the port is taken, the address is not this machine's."""


def terminal_size(width: object, height: object) -> tuple[int, int]:
    """A size asked for by a page (numbers, strings, or anything), within the bounds."""
    size = []
    for value, default, low, high in zip(
        (width, height), DEFAULT_SIZE, MIN_SIZE, MAX_SIZE, strict=True
    ):
        try:
            number = int(value)  # type: ignore[call-overload]
        except (TypeError, ValueError, OverflowError):
            number = default
        size.append(min(max(number, low), high))
    return size[0], size[1]


def trusted(origin: str | None, host: str, loopback: bool) -> bool:
    """May a request with these ``Origin`` and ``Host`` headers use the server?

    ``Origin``, when a browser sends it, must be the server's own address (as in
    ``Host``); on a server listening on loopback only, ``Host`` must name this
    machine (``localhost``, a loopback address) as well. Clients other than
    browsers send no ``Origin``.
    """
    if origin is not None and urlsplit(origin).netloc.lower() != host.lower():
        return False
    if not loopback:
        return True
    name = urlsplit(f"//{host}").hostname or ""
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


class Session(AppService):
    """One tab's dashboard, in a process group of its own so that it can be ended for sure."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._ending: asyncio.Task[None] | None = None

    @property
    def ending(self) -> bool:
        """True once the session has been told to end."""
        return self._ending is not None

    @property
    def output_done(self) -> asyncio.Task[None] | None:
        """The task relaying the dashboard's output; it ends when the dashboard does."""
        return self._task

    async def _open_app_process(self, width: int = 80, height: int = 24) -> Any:
        # As textual-serve does, plus a new session (and so process group): ending
        # the session can then reach every process the dashboard started.
        self._process = process = await asyncio.create_subprocess_shell(
            self.command,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=self._build_environment(width=width, height=height),
            start_new_session=True,
        )
        self._stdin = process.stdin
        return process

    async def end(self, signum: int = signal.SIGHUP) -> None:
        """End the dashboard with ``signum`` (SIGHUP: like a closed terminal), for sure.

        Safe to call more than once, and at the same time: the first call's
        signal is the one sent. Before the process has started there is nothing
        to end, and a later call still ends it.
        """
        if self._process is None:
            return
        if self._ending is None:
            self._ending = asyncio.ensure_future(self._end(signum))
        await asyncio.shield(self._ending)

    async def _end(self, signum: int) -> None:
        process = self._process
        if process is None:
            return
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signum)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(process.wait(), ENDING_GRACE_SECONDS)
        # Whatever is left: the dashboard if it hung, anything it started.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        await process.wait()
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), ENDING_GRACE_SECONDS)
            except TimeoutError:  # a grandchild that left the group holds the pipe open
                self._task.cancel()
        await self._download_manager.cancel_app_downloads(app_service_id=self.app_service_id)


def _quietly(send: Send) -> Send:
    """``send`` that drops what cannot be sent once the browser has gone.

    textual-serve stops relaying a dashboard's output at the first failed send;
    the dashboard would then block on a full pipe and could not end in order.
    """

    async def send_quietly(data: Any) -> None:
        with contextlib.suppress(ConnectionError, RuntimeError):
            await send(data)

    return send_quietly


class NntuiServer(Server):
    """textual-serve's server with a session cap, a short heartbeat and sessions that end."""

    def __init__(self, command: str, max_sessions: int, loopback: bool = True) -> None:
        super().__init__(command, title="nntui")
        self.templates_path = PAGE_DIR  # our page: nntui's title, the font served locally
        self.max_sessions = max_sessions
        self.loopback = loopback  # listening on this machine's loopback only
        self.sessions: list[Session] = []
        self.closing = False
        self._places = asyncio.Condition()  # notified when a session ends

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        app.middlewares.append(self._only_from_its_own_pages)
        return app

    @web.middleware
    async def _only_from_its_own_pages(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        """Refuse what another web site asks of this server through the user's browser.

        A page on any site can open a websocket to 127.0.0.1 (websockets are not
        held to the same-origin rule), and through a dashboard train, read runs
        and delete them; browsers say which page asks in ``Origin``. A site can
        also make its own name resolve to 127.0.0.1 (DNS rebinding); then the
        ``Host`` the browser sends is that name, not this machine's.
        """
        if not trusted(request.headers.get("Origin"), request.host, loopback=self.loopback):
            raise web.HTTPForbidden(text="nntui serve: not from one of its own pages\n")
        return await handler(request)

    async def on_startup(self, app: web.Application) -> None:
        """Print nothing: `nntui.cli.serve` prints the address itself."""

    @aiohttp_jinja2.template("app_index.html")
    async def handle_index(self, request: web.Request) -> dict[str, Any]:
        """The page, its websocket's address taken from the address the browser used.

        textual-serve builds it from ``--host``, and a browser on another machine
        cannot reach ``ws://0.0.0.0:8000``.
        """
        scheme = "wss" if request.secure else "ws"
        font_size = terminal_size(request.query.get("fontsize", "16"), 24)[0]
        return {
            "font_size": min(font_size, 64),
            "app_websocket_url": f"{scheme}://{request.host}/ws",
            "config": {"static": {"url": "/static/"}},
            "application": {"name": self.title},
        }

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        """One tab: start its dashboard if there is room, relay keys and screen until it ends."""
        websocket = web.WebSocketResponse(heartbeat=HEARTBEAT_SECONDS, timeout=CLOSE_SECONDS)
        width, height = terminal_size(request.query.get("width"), request.query.get("height"))
        await websocket.prepare(request)
        session = Session(
            self.command,
            write_bytes=_quietly(websocket.send_bytes),
            write_str=_quietly(websocket.send_str),
            close=websocket.close,
            download_manager=self.download_manager,
        )
        if not await self._take_place(session):
            await self._refuse(websocket, width)
            return websocket
        try:
            try:
                await session.start(width, height)
            except OSError as exc:  # no process could be made (a limit on processes, memory)
                text = f"nntui serve could not start a dashboard: {exc.strerror or exc}"
                await _quietly(websocket.send_bytes)(f"\r\n  {text}\r\n".encode())
                return websocket
            if self.closing:  # a signal came while it started: `end_all` waits for this one
                return websocket
            relay = asyncio.ensure_future(self._relay_input(websocket, session))
            assert session.output_done is not None
            # Until the tab closes (or its connection drops), or the dashboard ends.
            await asyncio.wait({relay, session.output_done}, return_when=asyncio.FIRST_COMPLETED)
            relay.cancel()
        finally:
            await session.end(signal.SIGHUP)
            async with self._places:
                self.sessions.remove(session)
                self._places.notify_all()
            await websocket.close()
        return websocket

    async def _take_place(self, session: Session) -> bool:
        """Count ``session`` among the open ones if there is room; False if there is none.

        A reloaded page opens its new websocket while its old dashboard is still
        ending: a full server waits a moment for a place to come free.
        """

        def room() -> bool:
            return self.closing or len(self.sessions) < self.max_sessions

        async with self._places:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._places.wait_for(room), PLACE_WAIT_SECONDS)
            if not room() and any(other.ending for other in self.sessions):
                # Its tab has closed and the dashboard is on its way out (slowly, on a
                # loaded machine): the place will be free within the ending's grace.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self._places.wait_for(room), ENDING_GRACE_SECONDS + CLOSE_SECONDS
                    )
            if self.closing or len(self.sessions) >= self.max_sessions:
                return False
            self.sessions.append(session)
            return True

    async def _refuse(self, websocket: web.WebSocketResponse, width: int) -> None:
        if self.closing:
            text = "This nntui server is stopping."
        else:
            n = self.max_sessions
            text = (
                f"This nntui server is full: {n} of {n} dashboards are open. "
                "Close one, then start again."
            )
        lines = textwrap.wrap(text, max(width - 4, 16))
        await websocket.send_bytes("".join(f"\r\n  {line}" for line in lines).encode())
        await websocket.close(code=WSCloseCode.TRY_AGAIN_LATER, message=b"no room")

    async def _relay_input(self, websocket: web.WebSocketResponse, session: Session) -> None:
        """Pass the page's keys, mouse, resizes and focus on; answer its pings.

        Anything malformed is ignored: the page is not trusted.
        """
        async for message in websocket:
            if message.type != WSMsgType.TEXT:
                continue
            try:
                envelope = json.loads(message.data)
            except ValueError:
                continue
            if not isinstance(envelope, list) or not envelope:
                continue
            kind = envelope[0]
            payload = envelope[1] if len(envelope) > 1 else None
            if kind == "stdin" and isinstance(payload, str):
                await session.send_bytes(payload.encode("utf-8", "replace"))
            elif kind == "resize" and isinstance(payload, dict):
                await session.set_terminal_size(
                    *terminal_size(payload.get("width"), payload.get("height"))
                )
            elif kind == "ping":
                await _quietly(websocket.send_json)(["pong", payload])
            elif kind == "blur":
                await session.blur()
            elif kind == "focus":
                await session.focus()

    async def end_all(self, signum: int) -> None:
        """Refuse new tabs and end every dashboard with ``signum``; return when all have ended."""
        self.closing = True
        async with self._places:
            self._places.notify_all()
        await asyncio.gather(*(session.end(signum) for session in list(self.sessions)))
        # A tab whose dashboard was still starting ends it itself, once started.
        async with self._places:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._places.wait_for(lambda: not self.sessions), ENDING_GRACE_SECONDS * 2
                )


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


async def run_server(
    command: str,
    host: str,
    port: int,
    max_sessions: int,
    ready: Callable[[int], None],
    loopback: bool = True,
) -> int:
    """Serve until a signal comes; end every session; return 128 + the signal's number.

    ``ready`` is called with the port listened on (``port`` 0 picks a free one).
    ``loopback`` says ``host`` is this machine's loopback only (see `trusted`).
    Raises `ServeError` if the address cannot be listened on.
    """
    server = NntuiServer(command, max_sessions, loopback)
    runner = web.AppRunner(
        await server._make_app(),
        handle_signals=False,
        access_log=None,
        shutdown_timeout=CLOSE_SECONDS,  # the sessions have ended by then
    )
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        # aiohttp's message repeats the address: the system's reason is enough.
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        raise ServeError(f"cannot listen on {host} port {port}: {reason}") from None
    loop = asyncio.get_running_loop()
    stop: asyncio.Future[int] = loop.create_future()

    def on_signal(signum: int) -> None:
        if not stop.done():
            stop.set_result(signum)

    for stop_signal in STOP_SIGNALS:
        loop.add_signal_handler(stop_signal, on_signal, stop_signal)
    try:
        ready(runner.addresses[0][1])
        signum = await stop
        await server.end_all(signum)
    finally:
        await runner.cleanup()
    return 128 + signum

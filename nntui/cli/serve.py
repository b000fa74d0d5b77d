"""``nntui serve``: the dashboard in web browsers, a dashboard process for each tab."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import os
import shlex
import socket
import sys
import threading
from pathlib import Path
from typing import Annotated

import typer

from nntui.cli.console import DataOption, err_console, fail

INSTALL = "pip install 'nntui[serve]'"
EXIT_GRACE_SECONDS = 5.0  # from the server's end to the process's, at most


def dashboard_command(data: Path | None) -> str:
    """The shell command textual-serve runs for each tab: this Python's ``nntui`` dashboard.

    ``exec`` puts the dashboard in the shell's place, so ending the session's
    process ends the dashboard itself; every argument is quoted for the shell.
    """
    words = [sys.executable, "-m", "nntui"]
    if data is not None:
        words += ["--data", str(data)]
    return "exec " + shlex.join(words)


def loopback_only(host: str, port: int) -> bool:
    """True if every address ``host`` names is this machine's loopback; `OSError` if none."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = {ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos}
    return all(address.is_loopback for address in addresses)


def serve(
    ctx: typer.Context,
    host: Annotated[
        str,
        typer.Option(help="Address to listen on; any but loopback lets other machines in."),
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(min=0, max=65535, help="Port to listen on (0: any free port).")
    ] = 8000,
    max_sessions: Annotated[
        int | None,
        typer.Option(min=1, help="Most dashboards open at once. [default: the number of cores]"),
    ] = None,
    data: DataOption = None,
) -> None:
    """Serve the dashboard to web browsers: each tab gets a dashboard of its own.

    Open the address it prints in a browser. Each tab runs the same dashboard as
    `nntui`, in a process of its own, on this machine's runs directory. Closing a
    tab stops its dashboard (its run is kept as "stopped"); Ctrl+C stops them all.
    """
    if data is None and isinstance(ctx.obj, dict):
        data = ctx.obj.get("data")
    try:
        from nntui.cli.serve_sessions import ServeError, run_server
    except ImportError as exc:
        fail(f"`nntui serve` needs textual-serve ({exc.name} is missing): {INSTALL}")
    if data is not None:
        data = data.expanduser().resolve()
        if not data.is_file() or not os.access(data, os.R_OK):
            fail(f"--data {data}: not a readable file")
    if not host or host.strip() != host:
        fail(f"--host {host!r}: not a host name or address")
    try:
        local = loopback_only(host, port)
    except (OSError, UnicodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        fail(f"--host {host}: {reason}")
    sessions = max_sessions or os.cpu_count() or 1

    def ready(bound_port: int) -> None:
        if not local:  # said once listening: an address that cannot be used is one error line
            err_console.print(
                f"nntui: warning: listening on {host}: anyone who can reach it can train on "
                "this machine and read and delete its runs",
                markup=False,
                soft_wrap=True,
            )
        shown = f"[{host}]" if ":" in host else host
        address = f"http://{shown}:{bound_port}/"
        try:
            print(
                f"nntui: serving the dashboard at {address} "
                f"(at most {sessions} at once; Ctrl+C stops them all)",
                flush=True,
            )
        except OSError as exc:  # stdout closed or full: say it where it can be read
            null = os.open(os.devnull, os.O_WRONLY)  # so that later writes, and the exit, succeed
            os.dup2(null, 1)
            os.close(null)
            with contextlib.suppress(OSError):
                err_console.print(
                    f"nntui: warning: cannot write to stdout ({exc.strerror or exc}); "
                    f"serving the dashboard at {address}",
                    markup=False,
                    soft_wrap=True,
                )

    try:
        code = asyncio.run(run_server(dashboard_command(data), host, port, sessions, ready, local))
    except ServeError as exc:
        fail(str(exc))
    # Every dashboard has ended and the server is closed: a thread that lingers
    # (a library's, say) must not keep the process alive, as the dashboard's
    # `end_within_grace` ensures for it.
    watchdog = threading.Timer(EXIT_GRACE_SECONDS, os._exit, args=(code,))
    watchdog.daemon = True
    watchdog.start()
    raise typer.Exit(code)

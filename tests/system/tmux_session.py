"""The one tmux driver of the system tests: a command in a pane of a private tmux server.

Each `pane` runs on a server of its own (``-L``, no config file), so other tmux
sessions on the machine change nothing, and only that server is stopped.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

TMUX = shutil.which("tmux")


def nntui_command() -> list[str]:
    """The ``nntui`` console script next to this Python, else the module."""
    script = Path(sys.executable).with_name("nntui")
    return [str(script)] if script.exists() else [sys.executable, "-m", "nntui"]


class Pane:
    """One tmux session on a server of its own, running a shell command."""

    def __init__(self, socket: str, name: str, exit_file: Path) -> None:
        self.socket, self.name, self.exit_file = socket, name, exit_file

    def tmux(self, *args: str) -> str:
        assert TMUX is not None
        run = subprocess.run(
            [TMUX, "-L", self.socket, "-f", os.devnull, *args],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        )
        return run.stdout

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", self.name)

    def keys(self, *keys: str, literal: bool = False) -> None:
        self.tmux("send-keys", "-t", self.name, *(["-l"] if literal else []), *keys)

    def flag(self, name: str) -> str:
        """A tmux format variable of the pane, such as ``alternate_on`` or ``cursor_flag``."""
        return self.tmux("display", "-p", "-t", self.name, f"#{{{name}}}").strip()

    def wait_for(self, pattern: str | Callable[[str], bool], timeout: float = 30.0) -> str:
        """The screen once ``pattern`` (a regular expression, or a test of the text) holds."""
        found = pattern if callable(pattern) else lambda text: re.search(pattern, text) is not None
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if found(screen):
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{pattern!r} did not appear; the screen was:\n{screen}")

    def child_pid(self) -> int:
        """The process the pane's shell started (the command under test)."""
        shell = self.flag("pane_pid")
        out = subprocess.run(["ps", "--ppid", shell, "-o", "pid="], capture_output=True, text=True)
        return int(out.stdout.split()[0])

    def exit_code(self, timeout: float = 30.0) -> int:
        """The command's exit status, once it has ended."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.exit_file.exists() and self.exit_file.read_text().strip():
                return int(self.exit_file.read_text())
            time.sleep(0.05)
        try:
            screen = self.screen()
        except subprocess.CalledProcessError:
            screen = "(the pane is gone: its shell was killed)"
        raise AssertionError(f"the command did not end; the screen was:\n{screen}")


@contextmanager
def pane(
    tmp_path: Path,
    args: list[str],
    env: Mapping[str, str] = {},
    redirect: str = "",
    size: tuple[int, int] = (120, 40),
) -> Iterator[Pane]:
    """Run ``args`` (after ``env``, then ``redirect`` such as ``</dev/null``) in a pane.

    The pane stays open after the command ends, its exit status in a file.
    """
    socket = f"nntui-test-{uuid.uuid4().hex[:8]}"
    exit_file = tmp_path / f"exit-{uuid.uuid4().hex[:6]}"
    full_env = {"TERM": "xterm-256color", **env}
    command = " ".join(
        [
            "env -u COLUMNS -u LINES",
            *(f"{k}={shlex.quote(v)}" for k, v in full_env.items()),
            *map(shlex.quote, args),
            redirect,
        ]
    )
    # pipefail: with ``| cat`` the status is nntui's, not cat's. The trap keeps the shell
    # alive through a ctrl+c that lands after the app has left raw mode, so the status
    # is always written.
    script = f"trap true INT; {command}; echo $? > {shlex.quote(str(exit_file))}; sleep 600"
    shell = f"bash -o pipefail -c {shlex.quote(script)}"
    p = Pane(socket, "t", exit_file)
    p.tmux("new", "-d", "-s", "t", "-x", str(size[0]), "-y", str(size[1]), shell)
    try:
        yield p
    finally:
        subprocess.run(
            [TMUX or "tmux", "-L", socket, "kill-server"], capture_output=True, timeout=10
        )

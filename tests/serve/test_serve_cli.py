"""`nntui serve`'s command line: bad input in one line, the warning, the missing extra,
and the parts that keep a dashboard's stdout for the browser."""

from __future__ import annotations

import shlex
import signal
import socket
import subprocess
import sys

import pytest

pytest.importorskip("textual_serve")  # the `serve` extra (part of the `test` extra)

from nntui.cli.serve import dashboard_command, loopback_only
from nntui.cli.serve_sessions import MAX_SIZE, MIN_SIZE, terminal_size, trusted
from tests.serve.served import serve_command, serving
from tests.system.procs import dashboard_on_pipes


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(serve_command(*args), capture_output=True, text=True, timeout=60)


def one_error_line(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("nntui: error: "), proc.stderr
    return lines[0]


def test_a_port_in_use_is_one_line_and_exit_2():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        line = one_error_line(run("--port", str(port)))
    assert f"port {port}" in line and "in use" in line


@pytest.mark.parametrize("host", ["no-such-host.invalid", "300.1.2.3", "", " 127.0.0.1"])
def test_a_bad_host_is_one_line_and_exit_2(host):
    assert "--host" in one_error_line(run("--host", host))


def test_an_address_not_of_this_machine_is_one_line_and_exit_2():
    line = one_error_line(run("--host", "192.0.2.1", "--port", "0"))  # TEST-NET-1
    assert "cannot listen on 192.0.2.1" in line


@pytest.mark.parametrize(
    "args",
    [["--max-sessions", "0"], ["--port", "70000"], ["--data", "/no/such/file"], ["--data", "/dev"]],
)
def test_bad_options_are_one_line_and_exit_2(args):
    assert args[0] in one_error_line(run(*args))  # the line names the option


def test_any_address_but_loopback_gets_one_warning_line(tiny_data_file):
    with serving("--host", "0.0.0.0", "--data", str(tiny_data_file)) as served:
        code, err = served.stop(signal.SIGTERM)
    assert code == 143
    assert err.splitlines() == [
        "nntui: warning: listening on 0.0.0.0: anyone who can reach it can train on this "
        "machine and read and delete its runs"
    ]


def test_loopback_names():
    assert loopback_only("127.0.0.1", 8000)
    assert loopback_only("localhost", 8000)
    assert not loopback_only("0.0.0.0", 8000)


def test_without_the_extra_it_says_which_pip_command_adds_it():
    # As if textual-serve were not installed: None in sys.modules makes its import fail.
    code = (
        "import sys; sys.modules['textual_serve'] = None; "
        "sys.argv = ['nntui', 'serve']; from nntui.cli import main; main()"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    line = one_error_line(proc)
    assert "pip install 'nntui[serve]'" in line


def test_the_dashboard_command_quotes_every_word_for_the_shell(tmp_path):
    odd = tmp_path / "it's $(touch pwned) `here` & there;.pkl.gz"
    command = dashboard_command(odd)
    assert shlex.split(command) == ["exec", sys.executable, "-m", "nntui", "--data", str(odd)]
    # What the shell makes of it: the same words, and nothing run.
    echoed = subprocess.run(
        ["sh", "-c", command.replace("exec ", "exec printf '%s\\n' ", 1)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=True,
    )
    assert echoed.stdout.splitlines() == [sys.executable, "-m", "nntui", "--data", str(odd)]
    assert not (tmp_path / "pwned").exists()


def test_terminal_sizes_are_bounded():
    assert terminal_size("120", "40") == (120, 40)
    assert terminal_size(None, "x") == (80, 24)
    assert terminal_size(10**12, -5) == (MAX_SIZE[0], MIN_SIZE[1])
    assert terminal_size(float("inf"), [1]) == (80, 24)


def test_under_the_web_driver_only_the_driver_writes_to_stdout():
    # print(), C code writing to fd 1 and a child process all end up on stderr;
    # what the driver writes on sys.__stdout__ is all that stdout carries.
    code = """if True:
        import os, subprocess, sys
        from nntui.tui.browser import keep_stdout_for_the_driver
        keep_stdout_for_the_driver()
        print("stray print")
        os.write(1, b"stray write\\n")
        subprocess.run(["echo", "stray child"], check=True)
        os.write(sys.__stdout__.fileno(), b"protocol")
    """
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == b"protocol"
    assert proc.stderr.splitlines() == [b"stray print", b"stray write", b"stray child"]


def test_the_command_line_loads_no_web_server_until_serve_runs():
    code = """if True:
        import sys
        from nntui.cli import load_command
        load_command("serve")
        load_command("train")
        loaded = {"aiohttp", "textual_serve", "jinja2"} & set(sys.modules)
        print(sorted(loaded))
    """
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_the_dashboard_recognises_the_driver_textual_serve_sets():
    from textual_serve.app_service import AppService

    from nntui import cli
    from nntui.tui import browser

    service = AppService(
        "true", write_bytes=None, write_str=None, close=None, download_manager=None
    )
    set_by_textual_serve = service._build_environment()["TEXTUAL_DRIVER"]
    assert cli.WEB_DRIVER == browser.WEB_DRIVER == set_by_textual_serve


def test_a_bare_dashboard_without_a_terminal_is_still_refused(tiny_data_file):
    # `nntui </dev/null`: only the web driver's environment lets a dashboard start on pipes.
    proc = dashboard_on_pipes(tiny_data_file)
    assert proc.returncode == 2
    assert proc.stderr.startswith("nntui: error: the dashboard needs an interactive terminal")


@pytest.mark.parametrize(
    ("origin", "host", "loopback", "ok"),
    [
        (None, "127.0.0.1:8000", True, True),  # not a browser
        ("http://127.0.0.1:8000", "127.0.0.1:8000", True, True),
        ("http://localhost:8000", "localhost:8000", True, True),
        ("http://[::1]:8000", "[::1]:8000", True, True),
        ("https://evil.example", "127.0.0.1:8000", True, False),  # another site's page
        ("null", "127.0.0.1:8000", True, False),  # a sandboxed frame, a file
        ("http://evil.example:8000", "evil.example:8000", True, False),  # DNS rebinding
        ("http://lab-pc:8000", "lab-pc:8000", False, True),  # --host 0.0.0.0, by name
        ("https://evil.example", "lab-pc:8000", False, False),
    ],
)
def test_only_its_own_pages_may_use_the_server(origin, host, loopback, ok):
    assert trusted(origin, host, loopback=loopback) is ok


def test_a_stdout_that_fails_does_not_stop_the_server(tmp_path):
    with open("/dev/full", "w") as full:
        proc = subprocess.Popen(
            serve_command("--port", "0"), stdout=full, stderr=subprocess.PIPE, text=True
        )
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        assert line.startswith("nntui: warning: cannot write to stdout (No space left on device)")
        assert "serving the dashboard at http://127.0.0.1:" in line
        assert proc.poll() is None
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 143
        assert proc.stderr.read() == ""
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

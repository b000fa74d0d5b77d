"""``nntui book``: the chapter's lines, typed or piped, work as in the book."""

from __future__ import annotations

import io
import os
import re
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from nntui.book import shell

# The chapter's session as typed, the line continuation included, on the tiny data set.
CHAPTER = """\
import mnist_loader
training_data, validation_data, test_data = \\
    mnist_loader.load_data_wrapper()
import network
net = network.Network([784, 30, 10])
net.SGD(training_data, 2, 10, 3.0, test_data=test_data)
len(training_data), len(training_data[:100])
"""
# The console's prompt at the start of a line (the banner shows ">>> " indented).
PROMPT = b"\n>>> "


def book(stdin: str, cwd: Path, data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NNTUI_DATA": str(data)}
    return subprocess.run(
        [sys.executable, "-m", "nntui", "book", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
    )


def test_the_chapters_lines_on_stdin_print_the_books_lines(tiny_data_file, tmp_path):
    out = book(CHAPTER, tmp_path, tiny_data_file)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert re.fullmatch(r"Epoch 0: \d+ / 100", lines[0])
    assert re.fullmatch(r"Epoch 1: \d+ / 100", lines[1])
    assert lines[2] == "(500, 100)"  # an expression's value, as the console shows it
    assert ">>>" not in out.stdout + out.stderr and "..." not in out.stdout


def test_a_failing_statement_stops_the_session_with_code_1(tiny_data_file, tmp_path):
    out = book("x = 1\ny = x / 0\nprint('not reached')\n", tmp_path, tiny_data_file)
    assert out.returncode == 1
    assert "not reached" not in out.stdout
    assert out.stderr.splitlines()[-1] == "ZeroDivisionError: division by zero"
    assert "code.py" not in out.stderr  # the console's own frames are not shown


def test_a_network_py_in_the_folder_is_hidden_and_said_so(tiny_data_file, tmp_path):
    (tmp_path / "network.py").write_text("raise SystemExit('the wrong network')\n")
    (tmp_path / "helper.py").write_text("VALUE = 42\n")
    out = book(
        "import network, helper\nprint(network.__name__, helper.VALUE)\n", tmp_path, tiny_data_file
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "nntui.book.network 42"  # the folder's other modules still import
    assert "./network.py is not used" in out.stderr


def test_the_book_names_are_on_no_other_pythons_path(tmp_path):
    out = subprocess.run(
        [sys.executable, "-c", "import network"], capture_output=True, text=True, cwd=tmp_path
    )
    assert "No module named 'network'" in out.stderr


def test_the_banner_names_the_session_and_a_hidden_module():
    text = shell.banner(["network"])
    assert "import mnist_loader" in text and "net.SGD(training_data, 30, 10, 3.0" in text
    assert "./network.py is not used here" in text
    assert "not used" not in shell.banner([])


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_on_a_terminal_it_is_interactive_with_a_banner(tmp_path):
    (tmp_path / "mnist_loader.py").write_text("")
    main, child = os.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "nntui", "book"],
        stdin=child,
        stdout=child,
        stderr=child,
        cwd=tmp_path,
        close_fds=True,
    )
    os.close(child)
    try:
        seen = _read_until(main, PROMPT)
        assert b"Type as in the book" in seen and b"./mnist_loader.py is not used" in seen
        os.write(main, b"import network; print(network.__name__)\n")
        assert b"nntui.book.network" in _read_until(main, PROMPT)
        os.write(main, b"\x04")  # Ctrl-D leaves
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(main)


def _read_until(fd: int, marker: bytes, timeout: float = 60.0) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while marker not in seen:
        left = deadline - time.monotonic()
        assert left > 0, f"no {marker!r} in {seen!r}"
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                seen += os.read(fd, 4096)
            except OSError:
                break
    return seen


def test_a_data_path_that_is_not_there_is_one_line_and_code_2(tmp_path, tiny_data_file):
    out = book("print('not reached')\n", tmp_path, tiny_data_file, "--data", str(tmp_path / "nope"))
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.strip() == f"nntui: error: {tmp_path / 'nope'}: no such file or directory"


def test_data_given_on_the_command_line_is_what_the_loader_reads(tmp_path, tiny_data_file):
    code = "import mnist_loader\nprint(len(mnist_loader.load_data_wrapper()[0]))\n"
    out = book(code, tmp_path, tmp_path / "unused", "--data", str(tiny_data_file))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "500"


@pytest.mark.parametrize(
    ("script", "code"),
    [("exit()\n", 0), ("quit(4)\n", 4), ("import sys\nsys.exit(3)\n", 3), ("exit('bye')\n", 1)],
)
def test_exit_in_a_piped_session_ends_it_with_its_code(tmp_path, script, code):
    namespace = shell.install_aliases(tmp_path)
    with pytest.raises(SystemExit) as raised:
        shell.run_piped(io.StringIO(f"print('ran')\n{script}print('not reached')\n"), namespace)
    # What `sys.exit` of this argument makes the process's code (None is 0, a text is 1).
    arg = raised.value.code
    assert (0 if arg is None else arg if isinstance(arg, int) else 1) == code


def test_input_ending_inside_a_statement_is_a_syntax_error_and_code_1(tmp_path, capsys):
    namespace = shell.install_aliases(tmp_path)
    assert shell.run_piped(io.StringIO("x = 1\nprint(x,\n"), namespace) == 1
    err = capsys.readouterr().err
    assert "SyntaxError" in err and "never closed" in err


def test_input_that_is_not_utf8_is_one_line_and_code_1(tiny_data_file, tmp_path):
    env = {**os.environ, "NNTUI_DATA": str(tiny_data_file), "PYTHONIOENCODING": "utf-8:strict"}
    out = subprocess.run(
        [sys.executable, "-m", "nntui", "book"],
        input=b"print('ran')\nx = '\xe9'\nprint('not reached')\n",
        capture_output=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    assert out.returncode == 1
    assert out.stdout == b"ran\n"
    assert out.stderr.decode() == (
        "nntui book: line 2 of the input is not UTF-8 text; Python source must be UTF-8\n"
    )


def test_a_reader_that_quits_ends_the_session_quietly_with_141(tiny_data_file, tmp_path):
    proc = _book_on_pipes(tiny_data_file, tmp_path)
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    proc.stdin.write(
        b"import itertools\nfor i in itertools.count(): print(i)\n\nprint('nor this')\n"
    )
    proc.stdin.close()
    assert proc.stdout.readline() == b"0\n"
    proc.stdout.close()  # `| head -1`
    assert proc.wait(timeout=120) == 141  # 128 + SIGPIPE, as a shell reports such a writer
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert "Traceback" not in err and "BrokenPipe" not in err and "nor this" not in err


def test_ctrl_c_in_a_statement_that_never_ends_is_one_line_and_130(tiny_data_file, tmp_path):
    proc = _book_on_pipes(tiny_data_file, tmp_path)
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(b"print('looping', flush=True)\nwhile True: pass\n\nprint('not reached')\n")
    proc.stdin.close()
    assert proc.stdout.readline() == b"looping\n"
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=120) == 130
    out, err = proc.stdout.read(), proc.stderr.read()  # type: ignore[union-attr]
    proc.stdout.close()
    proc.stderr.close()  # type: ignore[union-attr]
    assert err.decode() == "nntui book: interrupted\n"  # no traceback of the loop
    assert b"not reached" not in out


def test_a_refused_input_shows_the_learners_lines_not_nntuis_frames(tmp_path, capsys):
    namespace = shell.install_aliases(tmp_path)
    script = "import network\ndef make():\n    return network.Network([784])\n\nmake()\n"
    assert shell.run_piped(io.StringIO(script), namespace) == 1
    assert capsys.readouterr().err.splitlines() == [
        "Traceback (most recent call last):",
        '  File "<stdin>", line 1, in <module>',
        '  File "<stdin>", line 2, in make',  # the console numbers each statement's lines
        "ValueError: sizes needs at least an input and an output layer, like [784, 30, 10]; "
        "got [784]",
    ]


def test_an_error_that_is_not_a_refusal_keeps_its_whole_traceback(tmp_path, capsys):
    namespace = shell.install_aliases(tmp_path)
    # A NumPy error inside nntui (a bug, as far as the learner can tell) shows where it was.
    script = "import network\nnet = network.Network([4, 2])\nnet.engine.weights[0] = None\n"
    script += "net.feedforward([[0.0]] * 4)\n"
    assert shell.run_piped(io.StringIO(script), namespace) == 1
    err = capsys.readouterr().err
    assert "nntui" in err and err.count('File "') > 1


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_endless_nul_bytes_on_stdin_fail_at_once_in_one_line(tiny_data_file, tmp_path):
    # Read as one line, /dev/zero would fill the memory before anything is said.
    with open("/dev/zero", "rb") as zeros:
        out = subprocess.run(
            [sys.executable, "-m", "nntui", "book"],
            stdin=zeros,
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env={**os.environ, "NNTUI_DATA": str(tiny_data_file)},
            timeout=120,
        )
    assert out.returncode == 1
    assert (
        out.stderr
        == "nntui book: line 1 of the input holds a NUL byte, which Python source cannot\n"
    )


def test_a_nul_byte_in_a_later_line_is_named(tmp_path, capsys):
    namespace = shell.install_aliases(tmp_path)
    assert shell.run_piped(io.StringIO("print('ran')\nx = 1\0\nprint('no')\n"), namespace) == 1
    out, err = capsys.readouterr()
    assert out == "ran\n"
    assert err == "nntui book: line 2 of the input holds a NUL byte, which Python source cannot\n"


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_killed_at_the_prompt_it_leaves_the_terminal_echoing(tmp_path, signum):
    import termios

    main, child = os.openpty()
    before = termios.tcgetattr(child)
    proc = subprocess.Popen(
        [sys.executable, "-m", "nntui", "book"],
        stdin=child,
        stdout=child,
        stderr=child,
        cwd=tmp_path,
        close_fds=True,
    )
    try:
        _read_until(main, PROMPT)  # readline now has echo and line mode off
        proc.send_signal(signum)
        assert proc.wait(timeout=30) == -signum  # still ended by the signal, as Python is
        after = termios.tcgetattr(child)
        for flag in (termios.ECHO, termios.ICANON):
            assert after[3] & flag == before[3] & flag
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(child)
        os.close(main)


def test_ctrl_c_in_nntuis_code_shows_only_the_learners_line(tmp_path, capsys):
    namespace = shell.install_aliases(tmp_path)
    console = shell._BookConsole(namespace)
    console.push("import network, numpy as np")
    console.push("data = [(np.zeros((2, 1)), np.ones((2, 1)))] * 50")
    # Ctrl-C lands somewhere inside nntui's training loop, which runs until then.
    threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT)).start()
    console.push("network.Network([2, 2]).SGD(data, 10**9, 1, 1.0)")
    assert capsys.readouterr().err.splitlines() == [
        "Traceback (most recent call last):",
        '  File "<console>", line 1, in <module>',
        "KeyboardInterrupt",
    ]


def _book_on_pipes(data: Path, cwd: Path) -> subprocess.Popen[bytes]:
    """``nntui book`` with its three streams on pipes, as in ``... | nntui book | ...``."""
    return subprocess.Popen(
        [sys.executable, "-m", "nntui", "book"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=cwd,
        env={**os.environ, "NNTUI_DATA": str(data)},
    )

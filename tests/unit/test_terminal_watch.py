"""The terminal watch: it reports a terminal that hung up, once, and only then."""

from __future__ import annotations

import os
import threading
import time

from nntui.tui.terminal_watch import terminal_alive, watch_terminal


def test_a_terminal_is_alive_until_its_other_end_closes() -> None:
    master, slave = os.openpty()
    try:
        assert terminal_alive(slave)
        os.close(master)
        assert not terminal_alive(slave)
    finally:
        os.close(slave)


def test_a_pipe_or_a_closed_descriptor_is_no_terminal() -> None:
    read, write = os.pipe()
    assert not terminal_alive(read)
    os.close(read)
    os.close(write)
    assert not terminal_alive(read)


def test_the_watch_calls_once_when_the_terminal_is_gone() -> None:
    master, slave = os.openpty()
    calls: list[str] = []
    called = threading.Event()

    def gone() -> None:
        calls.append(threading.current_thread().name)
        called.set()

    watch_terminal(slave, gone, interval=0.01)
    try:
        assert not called.wait(0.2)  # a live terminal: nothing to report
        os.close(master)
        assert called.wait(10)
        time.sleep(0.1)  # it would have looked again ten times by now
        assert calls == ["nntui-terminal-watch"]
    finally:
        os.close(slave)


def test_a_stopped_watch_reports_nothing() -> None:
    master, slave = os.openpty()
    called = threading.Event()
    stop = watch_terminal(slave, called.set, interval=0.01)
    stop.set()
    os.close(master)
    try:
        assert not called.wait(0.3)
    finally:
        os.close(slave)

"""``net.SGD(..., watch=True)``: the dashboard trains the caller's own network, the book's way."""

from __future__ import annotations

import random
import signal

import numpy as np
import pytest

from nntui.book import mnist_loader, network, watch
from nntui.book.network import BookRun
from nntui.book.pairs import labelled_arrays, training_arrays
from tests.pilot import log_lines, main_screen, wait_for


@pytest.fixture
def book_data(tiny_data_file):
    training, _, test = mnist_loader.load_data_wrapper(tiny_data_file)
    return training, test


def book_run(net: network.Network, training: list, test: list | None, m: int = 10) -> BookRun:
    x, y = training_arrays(training, 784, 10, net.dtype)
    tests = labelled_arrays(test, 784, 10, "test_data") if test else None
    return BookRun(net, training, x, y.astype(net.dtype), m, 3.0, tests)


async def watched_to_the_end(run: BookRun, epochs: int) -> list[str]:
    """Open the dashboard on ``run``, wait for its last epoch, press q; the book's lines."""
    app = watch.watch_app(run, epochs, deterministic=True)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = main_screen(app)
        await wait_for(pilot, lambda: screen.state == "finished", timeout=60)
        await pilot.press("q")
    return watch.finish(app)


async def test_watch_trains_the_callers_network_and_stays_open_until_q(book_data):
    training, test = book_data
    random.seed(3)
    np.random.seed(3)
    net = network.Network([784, 30, 10])
    before = [w.copy() for w in net.weights]
    order_before = [id(p) for p in training]
    app = watch.watch_app(book_run(net, training, test), 2, deterministic=True)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = main_screen(app)
        await wait_for(pilot, lambda: screen.state == "finished", timeout=60)
        await pilot.pause(0.2)
        assert app.is_running and screen.state == "finished"  # open on the final state
        assert any("Epoch 2" in line for line in log_lines(app))
        await pilot.press("q")
    lines = watch.finish(app)
    assert [line.split(":")[0] for line in lines] == ["Epoch 0", "Epoch 1"]
    assert all(line.endswith("/ 100") for line in lines)
    assert app.trainers[-1].network is net.engine  # the caller's very network was trained
    assert not all(np.array_equal(a, b) for a, b in zip(before, net.weights, strict=True))
    assert [id(p) for p in training] != order_before  # the book's shuffle of the caller's list


async def test_the_dashboard_follows_the_books_shuffle(book_data):
    """Under the same seeds the dashboard's run is the plain SGD's run."""
    training, test = book_data
    runs = []
    for watched in (True, False):
        random.seed(8)
        np.random.seed(8)
        net, data = network.Network([784, 30, 10]), list(training)
        run = book_run(net, data, test)
        if watched:
            await watched_to_the_end(run, 1)
        else:
            run.train_epoch()
        runs.append((net, [id(p) for p in data]))
    (a, order_a), (b, order_b) = runs
    assert order_a == order_b
    for wa, wb in zip(a.weights, b.weights, strict=True):
        assert np.allclose(wa, wb, atol=1e-9)


async def test_q_before_the_end_stops_the_run_and_returns_what_was_trained(book_data):
    training, test = book_data
    net = network.Network([784, 30, 10])
    app = watch.watch_app(book_run(net, training * 20, test, m=1), 50, deterministic=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: bool(app.trainers) and app.trainers[-1].history, timeout=60)
        await pilot.press("q")
    lines = watch.finish(app)
    assert 1 <= len(lines) < 50
    assert all(t.wait(0) for t in app.trainers)  # no training thread outlives the call


def test_without_a_terminal_it_says_so_and_trains_as_without_watch(book_data, capsys):
    training, test = book_data
    handler = signal.getsignal(signal.SIGINT)
    net = network.Network([784, 30, 10])
    net.SGD(training, 2, 10, 3.0, test_data=test, watch=True)
    out, err = capsys.readouterr()
    assert err.count("\n") == 1 and "watch=True: the dashboard needs a terminal" in err
    assert [line.split(":")[0] for line in out.splitlines()] == ["Epoch 0", "Epoch 1"]
    assert signal.getsignal(signal.SIGINT) is handler


def test_a_network_the_dashboard_cannot_train_is_said_in_one_line(book_data):
    training, test = book_data
    net = network.Network([784, 10])
    assert watch.why_not_data(book_run(net, training, test)) is None
    small = network.Network([6, 3])
    rng = np.random.default_rng(0)
    pairs = [(rng.random((6, 1)), np.eye(3)[[i % 3]].T) for i in range(9)]
    reason = watch.why_not_data(book_run_small(small, pairs))
    assert reason is not None and "784" in reason


def book_run_small(net: network.Network, pairs: list) -> BookRun:
    x, y = training_arrays(pairs, 6, 3, net.dtype)
    return BookRun(net, pairs, x, y, 3, 1.0, None)


async def test_the_log_names_the_callers_net_once(book_data):
    training, test = book_data
    app = watch.watch_app(book_run(network.Network([784, 30, 10]), training, test), 1)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: main_screen(app).state == "finished", timeout=60)
        lines = log_lines(app)
        await pilot.press("q")
    watch.finish(app)
    assert sum("from net.SGD(..., watch=True)" in line for line in lines) == 1
    assert not any(line.startswith("New network") for line in lines)
    assert sum(t.started for t in app.trainers) == 1


def test_sgd_with_watch_returns_the_trained_net_and_prints_the_books_lines(
    book_data, capsys, monkeypatch
):
    """The whole call, as a learner makes it; the dashboard runs headless, driven by a pilot."""
    training, test = book_data
    seen: dict[str, object] = {}

    async def learner(pilot) -> None:
        screen = main_screen(pilot.app)
        await wait_for(pilot, lambda: screen.state == "finished", timeout=60)
        seen["log"] = log_lines(pilot.app)
        await pilot.press("q")

    monkeypatch.setattr(watch, "why_not", lambda run: None)  # as if in a terminal
    monkeypatch.setattr(
        watch, "run_app", lambda app: app.run(headless=True, size=(120, 40), auto_pilot=learner)
    )
    handler = signal.getsignal(signal.SIGINT)
    net = network.Network([784, 30, 10])
    before = net.evaluate(test)
    assert net.SGD(training, 2, 10, 3.0, test_data=test, watch=True) is None
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == ["Epoch 0", "Epoch 1"]
    assert lines[-1] == f"Epoch 1: {net.evaluate(test)} / 100"  # net is what was trained
    assert net.evaluate(test) != before
    assert any("Epoch 2:" in line for line in seen["log"])  # the dashboard showed the run
    assert signal.getsignal(signal.SIGINT) is handler


async def test_the_dashboards_controls_work_on_the_callers_run(book_data):
    """Pause, a step, eta live, a look-inside screen, then q: the call's lines follow all that."""
    from textual.widgets import Input

    training, test = book_data
    net = network.Network([784, 30, 10])
    app = watch.watch_app(book_run(net, training, test, m=1), 1_000)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = main_screen(app)
        await wait_for(pilot, lambda: screen.state == "running", timeout=60)
        await pilot.press("space")
        await wait_for(pilot, lambda: screen.state == "paused")
        trainer = app.trainers[-1]
        await pilot.press("full_stop")  # one mini-batch, then paused again
        await wait_for(pilot, lambda: not screen.run.stepping)
        await pilot.click("#eta")
        app.query_one("#eta", Input).value = ""
        await pilot.press(*"0.5", "enter")
        await wait_for(pilot, lambda: trainer.eta == 0.5)
        await pilot.press("escape", "c")  # the confusion matrix, on the caller's network
        await wait_for(pilot, lambda: app.screen is not screen)
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen)
        await pilot.press("space")
        await wait_for(pilot, lambda: len(trainer.history) >= 2, timeout=60)
        await pilot.press("q")
    lines = watch.finish(app)
    assert 2 <= len(lines) < 1_000 and lines[0].startswith("Epoch 0: ")
    assert trainer.history[-1].eta == 0.5  # the live eta was used

"""How quickly `nntui serve` gives a browser tab its dashboard, and takes it away.

Starts ``nntui serve --port 0 --data PATH`` and, ``--runs`` times, opens
``--tabs`` tabs at once through the websocket (the same client as the tests in
tests/serve/, speaking textual-serve's protocol as its page does), and reports
the median (min..max) seconds from connecting to

* the first frame of the dashboard;
* "Ready" on its screen (MNIST loaded);

then presses space in the first tab, waits for the first epoch line, closes
every tab and reports the seconds from the close to the last dashboard
process gone. The runs store is a temporary directory.

    python benchmarks/serve_sessions.py --data /path/to/mnist.pkl.gz --runs 3 --tabs 2
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time

from _common import add_data_option, environment_lines

from nntui.data.datastore import ensure_data
from tests.serve.served import EPOCH_LINE, READY, alive, serving, tab


def summary(values: list[float]) -> str:
    return f"{statistics.median(values):6.2f} s ({min(values):.2f}..{max(values):.2f})"


async def one_round(url: str, tabs: int, dashboards) -> tuple[list[float], list[float], float]:
    first, ready = [], []

    async def open_one(stack):
        start = time.perf_counter()
        t = await stack.enter_async_context(tab(url))
        await t.wait_for(r"\S", timeout=120)  # anything drawn
        first.append(time.perf_counter() - start)
        await t.wait_for(READY, timeout=120)
        ready.append(time.perf_counter() - start)
        return t

    from contextlib import AsyncExitStack

    async with AsyncExitStack() as stack:
        opened = await asyncio.gather(*(open_one(stack) for _ in range(tabs)))
        pids = dashboards()
        await opened[0].press(" ")
        await opened[0].wait_for(EPOCH_LINE, timeout=300)
    closed = time.perf_counter()
    while any(alive(pid) for pid in pids):
        await asyncio.sleep(0.02)
    return first, ready, time.perf_counter() - closed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_data_option(parser)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--tabs", type=int, default=2)
    args = parser.parse_args()
    data = args.data or str(ensure_data())
    for line in environment_lines():
        print(line)
    firsts, readies, gone = [], [], []
    with tempfile.TemporaryDirectory() as runs:
        os.environ["NNTUI_RUNS"] = runs
        with serving("--data", data, "--max-sessions", str(args.tabs)) as served:
            for _ in range(args.runs):
                first, ready, ended = asyncio.run(
                    one_round(served.url, args.tabs, served.dashboards)
                )
                firsts += first
                readies += ready
                gone.append(ended)
            served.proc.terminate()
            served.proc.wait()
    print(f"{args.runs} rounds of {args.tabs} tabs opened at once")
    print(f"  connect -> first frame   {summary(firsts)}")
    print(f"  connect -> Ready         {summary(readies)}")
    print(f"  tabs closed -> all gone  {summary(gone)}")


if __name__ == "__main__":
    main()

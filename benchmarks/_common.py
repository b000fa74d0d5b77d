"""What `speed.py` and `book.py` share: finding nntui and MNIST, and saying which BLAS runs."""

from __future__ import annotations

import argparse
import contextlib
import datetime
import gzip
import os
import pickle
import platform
import sys
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

# Let `python benchmarks/speed.py` work from a checkout where nntui is not installed.
REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from nntui.engine.dataset import MnistData, Split  # noqa: E402
from nntui.engine.errors import NntuiError  # noqa: E402


def add_data_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data",
        metavar="PATH",
        help="the book's mnist.pkl.gz (default: $NNTUI_DATA, then nntui's usual places)",
    )


def add_threads_option(parser: argparse.ArgumentParser, default: int | None = None) -> None:
    parser.add_argument(
        "--threads",
        type=int,
        default=default,
        help=f"BLAS threads, through threadpoolctl (default: {default or 'the library default'})",
    )


def blas_threads(threads: int | None) -> contextlib.AbstractContextManager[object]:
    """Cap the BLAS at ``threads`` threads for the ``with`` block; None leaves it alone."""
    if threads is not None and threads < 1:
        sys.exit(f"--threads must be at least 1, got {threads}")
    return threadpool_limits(limits=threads) if threads else contextlib.nullcontext()


def load_data(path: str | None) -> tuple[MnistData, str]:
    """MNIST from ``path``, else $NNTUI_DATA, else wherever nntui looks; and where it came from.

    Uses nntui's own loaders when they exist (`nntui.data.datastore`, `nntui.data.mnist`),
    otherwise reads the book's pickle directly.
    """
    try:
        try:
            from nntui.data.datastore import load_data as nntui_load_data
        except ImportError:
            pass
        else:
            where = path or os.environ.get("NNTUI_DATA") or "nntui's data directory"
            return nntui_load_data(path), f"{where} (nntui.data.datastore)"
        explicit = path or os.environ.get("NNTUI_DATA")
        if not explicit:
            sys.exit("no MNIST file: pass --data PATH/mnist.pkl.gz or set NNTUI_DATA")
        try:
            from nntui.data.mnist import load_mnist
        except ImportError:
            return _load_book_pickle(Path(explicit)), f"{explicit} (benchmarks' own reader)"
        return load_mnist(Path(explicit)), f"{explicit} (nntui.data.mnist)"
    except (NntuiError, OSError, EOFError, pickle.UnpicklingError, ValueError) as e:
        sys.exit(f"cannot load MNIST: {e}")


def _load_book_pickle(path: Path) -> MnistData:
    # The book's file: a Python 2 pickle of three (images (n, 784) float32, labels (n,)) pairs.
    with gzip.open(path, "rb") as f:
        splits = pickle.load(f, encoding="latin1")
    return MnistData(
        *(Split(np.asarray(x, np.float32), np.asarray(y, np.int64)) for x, y in splits)
    )


def environment_lines() -> list[str]:
    """When and where a benchmark ran: date, CPU, load, numpy, and the BLAS threadpoolctl sees.

    Call it inside any ``threadpool_limits`` so the thread counts shown are the ones in force.
    """
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        cpu = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), cpu)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    lines = [
        f"date: {datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}",
        f"cpu: {cpu}, {os.cpu_count()} logical cores, load average {load}",
        f"python {platform.python_version()}, numpy {np.__version__}",
    ]
    lines += [
        f"blas: {i['internal_api']} {i.get('version')}, {i.get('architecture', '?')} kernels, "
        f"{i['num_threads']} threads, {Path(i['filepath']).name}"
        for i in threadpool_info()
    ]
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        lines.append(f"  {var}={os.environ[var]}" if var in os.environ else f"  {var} not set")
    return lines


def print_environment(
    source: str | None = None, threads: int | None = None, *, show_threads: bool = False
) -> None:
    """Print `environment_lines`, then where the data came from and the BLAS threads asked for."""
    for line in environment_lines():
        print(line)
    if source is not None:
        print(f"data: {source}", flush=True)
    if show_threads:
        print(f"BLAS threads: {threads or 'library default'} (--threads)")

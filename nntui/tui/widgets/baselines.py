"""The accuracy chart that finds its own baselines: the chapter's classifiers and the SVM.

The average-darkness classifier reads all 50,000 training images (a tenth of a
second or more, from a cache on disk), and the SVM's cached result is found by
a checksum of the data file: both in threads, so that the dashboard is ready to
start at once. Snapshot runs (``in_thread=False``) compute the classifiers in place.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual import on, work
from textual.message import Message

from nntui.data import datastore
from nntui.store.baselines import load_svm_results
from nntui.tui.model.session import Session
from nntui.tui.widgets.charts import AccuracyChart


class BaselineAccuracyChart(AccuracyChart):
    """An `AccuracyChart` that computes the baselines of the session it is shown."""

    class Ready(Message):
        """The chapter's baselines for a session, computed in a thread."""

        def __init__(self, session: Session, baselines: dict[str, float]) -> None:
            super().__init__()
            self.session = session
            self.baselines = baselines

    def __init__(self, *, data_path: Path | None, in_thread: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._data_path = data_path
        self._in_thread = in_thread
        self._session: Session | None = None
        self._svm: int | None = None  # the SVM baseline's right answers, if cached

    def show_baselines(self, session: Session | None) -> None:
        """Put ``session``'s baselines on the chart once computed (now, if not in a thread)."""
        self._session = session
        if session is None:
            return
        if self._in_thread:
            self._compute_baselines(session)
        else:
            self._set_baselines(session.baselines())

    @work(thread=True, exclusive=True, exit_on_error=False, group="baselines", name="baselines")
    def _compute_baselines(self, session: Session) -> None:
        self.post_message(BaselineAccuracyChart.Ready(session, session.baselines()))

    @on(Ready)
    def _baselines_ready(self, message: Ready) -> None:
        if message.session is self._session:  # not a session since replaced
            self._set_baselines(message.baselines)

    def _set_baselines(self, found: dict[str, float]) -> None:
        baselines = dict(found)
        if self._session is not None:
            baselines.update(self._session.svm_baseline(self._svm))
        self.set_baselines({name: 100 * value for name, value in baselines.items()})

    @work(thread=True, exclusive=True, exit_on_error=False, group="svm", name="svm")
    def find_svm(self) -> None:
        """Read the SVM baseline cached beside the data (a checksum: off the UI thread)."""
        path = datastore.find_data(self._data_path)
        if path is None:
            return
        results = load_svm_results(datastore.baseline_dirs(path), datastore.data_checksum(path))
        book = results.get("auto")
        if book is not None and book.total == 10_000:
            self.app.call_from_thread(self._svm_found, book.correct)

    def _svm_found(self, correct: int) -> None:
        self._svm = correct
        self.show_baselines(self._session)

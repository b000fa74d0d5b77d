"""On the real MNIST, found or downloaded the way a user's machine gets it (see conftest)."""

from __future__ import annotations

import pytest

from nntui.engine.config import TrainConfig
from nntui.engine.dataset import MnistData
from nntui.engine.events import EpochDone
from nntui.engine.training import Trainer

pytestmark = pytest.mark.realdata


@pytest.fixture
def mnist(real_mnist: MnistData) -> MnistData:
    return real_mnist


def test_the_books_split(mnist):
    assert (len(mnist.training), len(mnist.validation), len(mnist.test)) == (50_000, 10_000, 10_000)
    assert mnist.training.images.shape == (50_000, 784)
    assert float(mnist.test.images.min()) >= 0.0 and float(mnist.test.images.max()) < 1.0


def test_one_seeded_epoch_on_all_50000_images_reaches_90_percent(mnist):
    # With the book's N(0, 1) initial weights some seeds start with saturated
    # output neurons and need a few epochs to recover (over seeds 1-8 the first
    # epoch gave 73.6% to 91.2%), so the test pins a seed, as the issue asks.
    trainer = Trainer(mnist, TrainConfig(epochs=1, seed=1), progress_every=1000)
    done = [e for e in trainer.run() if isinstance(e, EpochDone)]
    assert len(done) == 1 and done[0].total == 10_000
    assert done[0].correct >= 9000, done[0].book_line()

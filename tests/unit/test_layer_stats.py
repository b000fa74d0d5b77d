"""Per-layer statistics against values worked out by hand on tiny networks."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nntui.engine.layers import (
    GradientMeter,
    LayerStats,
    held_back_digits,
    layer_activations,
    layer_stats,
    never_predicted,
    saturation,
    stuck_output_hint,
)
from nntui.engine.network import Network

# [2, 2, 1]: hidden neuron 1 computes sigma(100 x0) (saturated near 1 when x0 = 1,
# 0.5 when x0 = 0), hidden neuron 2 sigma(0) = 0.5 always; the output sigma(-10)
# = 4.5e-5 whatever the input: stuck.
W = [np.array([[100.0, 0.0], [0.0, 0.0]]), np.array([[0.0, 0.0]])]
B = [np.zeros((2, 1)), np.array([[-10.0]])]
X = np.array([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0], [0.0, 0.0]])


def test_activations_of_every_layer():
    hidden, out = layer_activations(W, B, X)
    assert hidden.shape == (4, 2) and out.shape == (4, 1)
    assert np.allclose(hidden[:, 1], 0.5)
    assert np.allclose(hidden[:3, 0], 1.0) and hidden[3, 0] == pytest.approx(0.5)
    assert np.allclose(out, 1 / (1 + math.exp(10)))


def test_stats_by_hand():
    stats = layer_stats(W, layer_activations(W, B, X), grad_rms=[0.25, 0.5])
    # Hidden: 3 of 8 activations saturated; neuron 1 saturated on 3 of 4 images is not stuck.
    assert stats[0] == LayerStats(1, 2, 0.0, 3 / 8, 0.25, 100.0)
    # Output: its only neuron is below 0.01 on every image: stuck, all saturated.
    assert stats[1] == LayerStats(2, 1, 1.0, 1.0, 0.5, 0.0)


def test_without_gradient_samples_the_size_is_nan():
    stats = layer_stats(W, layer_activations(W, B, X))
    assert all(math.isnan(s.grad_rms) for s in stats)
    assert stats[0].to_record("h1_")["h1_grad_rms"] is None


@pytest.mark.parametrize(("saturated_images", "stuck"), [(99, 1.0), (98, 0.0), (100, 1.0)])
def test_stuck_means_saturated_on_at_least_99_percent(saturated_images, stuck):
    a = np.full((100, 2), 0.5)
    a[:saturated_images, 0] = 0.995  # above 0.99
    assert saturation(a) == (pytest.approx(stuck / 2), pytest.approx(saturated_images / 200))


def test_the_thresholds_are_strict():
    a = np.array([[0.01, 0.99], [0.009, 0.991]])
    assert saturation(a) == (0.0, 0.5)


def test_gradient_meter_by_hand():
    meter = GradientMeter(layers=2, every=1)
    eta = 3.0
    # Updates are eta * (mean gradient): gradients all 1 then all 3 in layer 1 -> RMS sqrt(5).
    meter.add([eta * np.ones((2, 2)), eta * np.array([[3.0, 4.0]])], eta)
    meter.add([eta * 3 * np.ones((2, 2)), eta * np.array([[0.0, 0.0]])], eta)
    rms = meter.rms()
    assert rms[0] == pytest.approx(math.sqrt(5))
    assert rms[1] == pytest.approx(math.sqrt(12.5 / 2))
    meter.reset()
    assert all(math.isnan(v) for v in meter.rms())


def test_gradient_meter_samples_one_in_every():
    meter = GradientMeter(layers=1, every=3)
    assert [meter.due() for _ in range(7)] == [True, False, False, True, False, False, True]


def test_the_meter_reads_the_networks_own_update():
    net = Network([6, 4, 3], seed=1, dtype=np.float64)
    rng = np.random.default_rng(2)
    x, y = rng.random((6, 5)), np.eye(3)[:, rng.integers(0, 3, 5)]
    _, nabla_w = net.copy().backprop(x, y)  # gradient of sum_x C_x
    net.update_mini_batch(x, y, eta=0.5)
    meter = GradientMeter(layers=2)
    meter.add(net.last_weight_updates(5), eta=0.5)
    expected = [math.sqrt(np.mean((nw / 5) ** 2)) for nw in nabla_w]
    assert np.allclose(meter.rms(), expected)


def test_never_predicted_ignores_digits_not_shown():
    labels = np.array([0, 1, 2, 3, 3])
    predictions = np.array([0, 0, 2, 2, 2])
    assert never_predicted(predictions, labels) == [1, 3]


def test_held_back_means_hardly_ever_right():
    labels = np.array([0] * 10 + [1] * 10 + [2] * 10)
    predictions = labels.copy()
    predictions[10:19] = 0  # digit 1: one right in ten, a stuck output that still wins once
    predictions[20:22] = 0  # digit 2: eight right in ten, just a weaker digit
    assert held_back_digits(predictions, labels) == [1]
    assert never_predicted(predictions, labels) == []


def test_hint_names_the_digits_and_what_to_try():
    assert stuck_output_hint([], 30) is None
    assert stuck_output_hint([3], 2) is None  # too early: outputs still sort themselves out
    one = stuck_output_hint([3], 30)
    assert one.startswith("Output neuron 3 is stuck: the network almost never answers 3,")
    assert "another seed" in one and "cross-entropy" in one
    two = stuck_output_hint([2, 7], 30)
    assert two.startswith(
        "Output neurons 2 and 7 are stuck: the network almost never answers 2 or 7"
    )
    assert "\n" not in two

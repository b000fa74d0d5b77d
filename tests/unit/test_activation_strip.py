"""The hidden layer's strip of shaded cells."""

from __future__ import annotations

from nntui.render.activations import activation_strip, cell_width, strip_height


def test_one_cell_per_neuron_shaded_by_activation():
    strip = activation_strip([0.0, 0.5, 1.0, 0.005, 0.995], width=5)
    # Saturated cells carry a glyph (a dot for off, a block for on), the rest only a shade.
    assert strip.plain == "· █·█"
    # Brighter activations get brighter backgrounds.
    backgrounds = [span.style.bgcolor.get_truecolor() for span in strip.spans]
    brightness = [sum(rgb) for rgb in backgrounds]
    assert brightness[0] < brightness[1] < brightness[2]


def test_wide_screens_get_two_columns_per_neuron_and_narrow_ones_wrap():
    assert cell_width(30, 80) == 2 and cell_width(100, 80) == 1
    assert activation_strip([0.5] * 30, 80).plain == "  " * 30
    wrapped = activation_strip([0.5] * 100, 40)
    assert wrapped.plain.split("\n") == [" " * 40, " " * 40, " " * 20]
    assert strip_height(100, 40) == 3 and strip_height(30, 80) == 1


def test_nan_is_shown_not_hidden():
    assert activation_strip([float("nan"), 0.5], 2).plain == "? "

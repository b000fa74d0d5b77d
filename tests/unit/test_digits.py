"""Centring and scaling like MNIST, and reading PNG and PGM digits."""

from __future__ import annotations

import struct
import warnings
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from nntui.data.digits import INK, center_and_scale, read_image, resize
from nntui.engine.errors import DataError


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    total = image.sum()
    rows, cols = np.indices(image.shape)
    return float((rows * image).sum() / total), float((cols * image).sum() / total)


def centred(cy: float, cx: float) -> bool:
    """Within half a pixel of (14, 14): the best a whole-pixel shift can do (float32 aside)."""
    return abs(cy - 14) <= 0.5 + 1e-4 and abs(cx - 14) <= 0.5 + 1e-4


def box_size(image: np.ndarray) -> tuple[int, int]:
    rows = np.flatnonzero(image.any(axis=1))
    cols = np.flatnonzero(image.any(axis=0))
    return int(rows[-1] - rows[0] + 1), int(cols[-1] - cols[0] + 1)


def disc(shape=(28, 28), centre=(6.0, 20.0), radius=4.0) -> np.ndarray:
    rows, cols = np.indices(shape)
    d = np.hypot(rows - centre[0], cols - centre[1])
    return np.clip(radius + 0.5 - d, 0, 1)  # a disc with a soft, finite edge


# Centring and scaling


def test_a_shifted_blob_is_centred_and_scaled_to_20():
    out = center_and_scale(disc())
    assert out.shape == (28, 28) and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0
    cy, cx = centre_of_mass(out)
    assert centred(cy, cx)
    assert max(box_size(out)) in (19, 20, 21)


def test_aspect_ratio_is_kept():
    image = np.zeros((28, 28))
    image[2:14, 3:9] = 1.0  # 12 tall, 6 wide
    h, w = box_size(center_and_scale(image))
    assert h == 20 and w == 10


def test_a_small_digit_grows_and_a_large_one_shrinks():
    one_pixel = np.zeros((28, 28))
    one_pixel[27, 0] = 0.8
    assert box_size(center_and_scale(one_pixel)) == (20, 20)
    assert box_size(center_and_scale(disc((200, 200), (100, 100), 90))) in [(20, 20), (21, 21)]


def test_blank_stays_blank():
    np.testing.assert_array_equal(center_and_scale(np.zeros((28, 28))), np.zeros((28, 28)))


def test_centring_twice_changes_nothing():
    once = center_and_scale(disc(centre=(20, 5), radius=6) + disc(centre=(8, 9), radius=2))
    np.testing.assert_allclose(center_and_scale(once), once, atol=1e-6)


def test_faint_specks_below_the_ink_threshold_do_not_move_the_centring():
    # A stroke, as the pad draws it: solid in the middle, anti-aliased at the edge.
    stroke = np.zeros((28, 28))
    stroke[4:23, 12:15] = 1.0
    stroke[4:23, 11] = 0.4
    stroke[4:23, 15] = 0.1
    stroke[22, 15:19] = 0.7
    clean = center_and_scale(stroke)
    cy, cx = centre_of_mass(clean)
    assert min(abs(cy % 1 - 0.5), abs(cx % 1 - 0.5)) > 0.05  # not balanced on a rounding edge
    rng = np.random.default_rng(0)
    speckled = stroke + rng.uniform(0, 1e-5, stroke.shape)  # rounding noise everywhere
    speckled[0, 0] = speckled[27, 27] = 1e-3  # invisible specks (under 1/255) far away
    assert INK > 1e-3
    for perturbed in (speckled, speckled.astype(np.float32), stroke.astype(np.float32)):
        np.testing.assert_allclose(center_and_scale(perturbed), clean, atol=1e-3)
    assert box_size(clean) == (20, box_size(clean)[1])  # the stroke alone sets the box


def test_a_symmetric_drawing_centres_the_same_in_float32_and_float64():
    # Its centre of mass is exactly between two pixels: rounding must not pick the side.
    image = np.zeros((28, 28))
    image[6:9, 10:13] = 1.0
    image[5, 10:13] = image[9, 10:13] = image[6:9, 9] = image[6:9, 13] = 0.3
    for dtype in (np.float32, np.float64):
        for noise in (0.0, 1e-7):
            np.testing.assert_allclose(
                center_and_scale((image + noise).astype(dtype)),
                center_and_scale(image),
                atol=1e-4,
            )


def test_a_speck_above_the_threshold_is_ink():
    image = np.zeros((28, 28))
    image[10:15, 10:15] = 1.0
    image[0, 0] = 2 * INK
    assert center_and_scale(image)[center_and_scale(image) > 0].size > 25


@pytest.mark.realdata
def test_real_mnist_digits_are_already_centred_and_scaled(real_mnist):
    images = real_mnist.test.images[:500].reshape(-1, 28, 28)
    for image in images:
        np.testing.assert_allclose(center_and_scale(image), image, atol=1e-6)


def test_ink_that_would_leave_the_field_stays_in():
    # A T-bar heavy at the top: its centre of mass is near the top of its box, so
    # centring it would push the stem's foot out; it is shifted only as far as fits.
    image = np.zeros((28, 28))
    image[0:6, 0:20] = 1.0
    image[6:24, 9:11] = 0.05
    out = center_and_scale(image)
    assert out.sum() == pytest.approx(image.sum() * (20 / 24) ** 2, rel=0.05)
    assert out[27].any()  # the stem reaches the bottom edge instead of being cut


@settings(max_examples=60, deadline=None)
@given(
    top=st.integers(0, 20),
    left=st.integers(0, 20),
    height=st.integers(1, 8),
    width=st.integers(1, 8),
    level=st.floats(0.1, 1.0),
)
def test_any_rectangle_ends_centred_in_a_20_pixel_box(top, left, height, width, level):
    image = np.zeros((28, 28))
    image[top : top + height, left : left + width] = level
    out = center_and_scale(image)
    cy, cx = centre_of_mass(out)
    assert centred(cy, cx)
    assert max(box_size(out)) == 20
    assert out.max() <= 1.0


def test_center_and_scale_wants_2d():
    with pytest.raises(ValueError, match="2-D"):
        center_and_scale(np.zeros(784))


def test_resize_keeps_the_range_and_thin_strokes():
    assert np.allclose(resize(np.full((7, 9), 0.3), 20, 14), 0.3)
    line = np.zeros((100, 100))
    line[:, 50] = 1.0  # one pixel wide: point sampling would miss it
    small = resize(line, 20, 20)
    assert (small.max(axis=1) > 0.1).all() and small.max() <= 1.0
    assert small.sum() == pytest.approx(line.sum() * (20 / 100) ** 2, rel=0.01)


# Reading images


def digit_pixels() -> np.ndarray:
    """A uint8 (28, 28) digit with MNIST's white ink on exact black, in many shades."""
    ring = disc(centre=(14, 13), radius=8) - disc(centre=(14, 13), radius=4)
    return (255 * ring * np.linspace(0.4, 1.0, 28)[None, :]).astype(np.uint8)


def test_png_28x28_round_trip(tmp_path):
    pixels = digit_pixels()
    path = tmp_path / "digit.png"
    Image.fromarray(pixels).save(path)
    digit = read_image(path)
    assert digit.pixels.dtype == np.float32 and digit.pixels.shape == (28, 28)
    np.testing.assert_allclose(digit.pixels, pixels / 255, atol=1e-6)
    assert not digit.inverted and not digit.resized and digit.notes() == []


def test_dark_ink_on_paper_is_inverted(tmp_path):
    pixels = digit_pixels()
    path = tmp_path / "paper.png"
    Image.fromarray(255 - pixels).convert("RGB").save(path)  # colour, too
    digit = read_image(path)
    assert digit.inverted and "inverted" in digit.notes()[0]
    np.testing.assert_allclose(digit.pixels, pixels / 255, atol=1e-6)


def test_other_sizes_are_centred_and_scaled(tmp_path):
    path = tmp_path / "big.png"
    Image.fromarray((255 * disc((90, 120), (30, 80), 25)).astype(np.uint8)).save(path)
    digit = read_image(path)
    assert digit.resized and digit.original_size == (90, 120)
    assert "120x90" in digit.notes()[0]
    cy, cx = centre_of_mass(digit.pixels)
    assert centred(cy, cx) and max(box_size(digit.pixels)) == 20


def test_gray_paper_of_a_photo_is_levelled(tmp_path):
    photo = (200 - 150 * disc((60, 60), (30, 30), 12)).astype(np.uint8)  # ink 50 on paper 200
    path = tmp_path / "photo.png"
    Image.fromarray(photo).save(path)
    digit = read_image(path)
    assert digit.pixels[0, 0] == 0.0 and digit.pixels.max() == pytest.approx(1.0)
    assert max(box_size(digit.pixels)) == 20  # the paper did not count as ink


def test_16_bit_png_is_scaled_not_clipped(tmp_path):
    path = tmp_path / "deep.png"
    Image.fromarray(digit_pixels().astype(np.uint16) * 257).save(path)  # 255 -> 65535
    np.testing.assert_allclose(read_image(path).pixels, digit_pixels() / 255, atol=1e-6)


def test_black_ink_on_a_transparent_background(tmp_path):
    rgba = np.zeros((28, 28, 4), np.uint8)
    rgba[..., 3] = digit_pixels()  # black everywhere; only the ink is opaque
    path = tmp_path / "transparent.png"
    Image.fromarray(rgba, "RGBA").save(path)
    digit = read_image(path)
    assert digit.inverted
    np.testing.assert_allclose(digit.pixels, digit_pixels() / 255, atol=1e-6)


def pgm_p5(pixels: np.ndarray, maxval: int) -> bytes:
    h, w = pixels.shape
    dtype = ">u2" if maxval > 255 else "u1"
    return f"P5\n# made by a test\n{w} {h}\n{maxval}\n".encode() + pixels.astype(dtype).tobytes()


def test_pgm_p5_8_bit(tmp_path):
    path = tmp_path / "digit.pgm"
    path.write_bytes(pgm_p5(digit_pixels(), 255))
    np.testing.assert_allclose(read_image(path).pixels, digit_pixels() / 255, atol=1e-6)


def test_pgm_p5_16_bit_with_any_maxval(tmp_path):
    path = tmp_path / "digit16.pgm"
    path.write_bytes(pgm_p5(digit_pixels().astype(np.int64) * 4, 1020))
    np.testing.assert_allclose(read_image(path).pixels, digit_pixels() / 255, atol=1e-6)


def test_pgm_p2_with_comments_and_small_maxval(tmp_path):
    levels = digit_pixels() // 17  # 0..15
    body = "\n".join(" ".join(map(str, row)) for row in levels)
    path = tmp_path / "digit.pgm"
    path.write_text(f"P2 # ascii\n28 # width\n28\n# levels\n15\n{body}\n")
    np.testing.assert_allclose(read_image(path).pixels, levels / 15, atol=1e-6)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (b"hello, I am text\n", "not an image"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "unreadable image"),
        (b"P5\n28 28\n255\n" + bytes(100), "truncated"),
        (b"P5\n28\n", "no height"),
        (b"P5 28 28 0\n" + bytes(784), "maximum value 0"),
        (b"P5 0 28 255\n", "0x28"),
        (b"P2 2 1 255\n1 x\n", "not a whole number"),
        (b"P2 2 2 255\n1 2 3\n", "truncated"),
        (b"P2 2 1 7\n1 9\n", "exceeds the maximum value 7"),
        (b"P5 2 2 255\n" + bytes(4), "blank"),
    ],
)
def test_bad_files_are_one_line_errors_naming_the_file(tmp_path, content, message):
    path = tmp_path / "bad.img"
    path.write_bytes(content)
    with pytest.raises(DataError, match=message) as err:
        read_image(path)
    assert str(err.value).startswith(str(path)) and "\n" not in str(err.value)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        read_image(tmp_path / "nope.png")
    with pytest.raises(DataError, match="is a directory"):
        read_image(tmp_path)


def _png_declaring(width: int, height: int) -> bytes:
    """A PNG whose header claims a huge image (its data need not be there to trip the check)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@pytest.mark.parametrize("side", [10_000, 14_000])  # Pillow's warning zone, and its error zone
def test_a_decompression_bomb_is_one_line_and_no_pillow_warning(tmp_path, side):
    path = tmp_path / "bomb.png"
    path.write_bytes(_png_declaring(side, side))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a warning escaping would be printed to the user
        with pytest.raises(DataError) as caught:
            read_image(path)
    assert str(caught.value) in (
        f"{path}: the image is too large to read safely",
        f"{path}: a {side}x{side} image is too large (at most 50,000,000 pixels)",
    )

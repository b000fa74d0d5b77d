"""Digits from outside MNIST, made to look like MNIST: centring, scaling, reading image files.

The network only knows digits prepared the way MNIST's were (LeCun et al.): the
ink's bounding box scaled, keeping its aspect ratio, so that its larger side is
20 pixels, with antialiasing, then placed in a 28x28 field so that its centre of
mass is at the centre. `center_and_scale` does that for the drawing pad and for
`nntui predict`; `read_image` turns a PNG or PGM file into the (28, 28) array it
needs. Pure NumPy (and Pillow for PNG); no terminal code.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nntui.data.files import read_failure
from nntui.data.streams import check_input, is_stream, spool
from nntui.engine.errors import DataError, reason

SIDE = 28  # MNIST images are 28x28
BOX = 20  # ...with the digit scaled to fit a 20x20 box inside
# Measured on the book's test set: the centre of mass of the digits, in pixel
# indices (row, column), averages (13.99, 14.01), so MNIST's "centre" is 14, not 13.5.
CENTRE = 14.0
# A pixel brighter than this is ink. It is half of MNIST's faintest grey (1/255):
# a fainter pixel shows as black on any 8-bit display, so it is a speck (the pen's
# anti-aliased edge, floating-point noise), not ink. Were the threshold 0, such
# specks would stretch the bounding box and move the centring, and the answer
# would depend on rounding. MNIST's own digits keep every pixel they have.
INK = 0.5 / 255
MAX_PIXELS = 50_000_000  # refuse larger images (a phone photo is about 12 million)
MAX_FILE_BYTES = 256 << 20


def center_and_scale(image: np.ndarray, ink: float = INK) -> np.ndarray:
    """Return ``image`` as MNIST would have it: float32 (28, 28), values in [0, 1].

    ``image`` is any 2-D array of intensities in [0, 1], white (1) ink on black
    (0). The bounding box of the pixels brighter than ``ink`` is cut out, resized
    with antialiasing so its larger side is 20 pixels (aspect ratio kept), and
    pasted into a black 28x28 image so that its centre of mass lands on pixel
    (14, 14), as near as a whole-pixel shift allows. A digit so lopsided that
    this would push ink off the edge is shifted only as far as keeps it all in.
    A blank image (no ink) comes back blank.
    """
    image = np.clip(np.asarray(image, dtype=np.float64), 0.0, 1.0)
    if image.ndim != 2 or 0 in image.shape:
        raise ValueError(f"expected a 2-D image, got shape {image.shape}")
    out = np.zeros((SIDE, SIDE), np.float32)
    rows = np.flatnonzero((image > ink).any(axis=1))
    cols = np.flatnonzero((image > ink).any(axis=0))
    if rows.size == 0:
        return out
    crop = image[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    h, w = crop.shape
    scale = BOX / max(h, w)
    new_h, new_w = max(1, round(h * scale)), max(1, round(w * scale))
    box = resize(crop, new_h, new_w)  # (new_h, new_w)
    total = box.sum()
    if total <= 0:  # pragma: no cover - the crop has ink, and resizing keeps it
        return out
    cy = (box.sum(axis=1) @ np.arange(new_h)) / total
    cx = (box.sum(axis=0) @ np.arange(new_w)) / total
    top = min(max(_nearest(CENTRE - cy), 0), SIDE - new_h)
    left = min(max(_nearest(CENTRE - cx), 0), SIDE - new_w)
    out[top : top + new_h, left : left + new_w] = box
    return out


def _nearest(shift: float) -> int:
    """The whole-pixel shift nearest ``shift``, a tie going up.

    A symmetric drawing's centre of mass is often exactly half-way between two
    pixels; rounding to 1/10,000 of a pixel first makes such ties come out the
    same whether the pixels were float32 or float64, on any CPU.
    """
    return int(np.floor(round(shift + 0.5, 4)))


def resize(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize a 2-D array with an antialiased bilinear (triangle) filter, float64.

    Growing, this is plain bilinear interpolation; shrinking, the filter widens
    to cover every source pixel that falls in a target pixel, so thin strokes
    fade to grey instead of vanishing (what Pillow calls BILINEAR with reducing
    support). Each output pixel is a weighted mean of input pixels, so values
    stay within the input's range.
    """
    image = np.asarray(image, dtype=np.float64)
    rows = _filter_matrix(image.shape[0], height)  # (height, h)
    cols = _filter_matrix(image.shape[1], width)  # (width, w)
    resampled: np.ndarray = rows @ image @ cols.T
    return resampled


def _filter_matrix(n_in: int, n_out: int) -> np.ndarray:
    """Weights (n_out, n_in) that resample one axis from n_in to n_out pixels."""
    scale = n_out / n_in
    support = max(1.0, 1.0 / scale)  # in input pixels
    centres = (np.arange(n_out) + 0.5) / scale  # output pixel centres, in input coordinates
    source = np.arange(n_in) + 0.5
    weights = np.clip(1.0 - np.abs(source[None, :] - centres[:, None]) / support, 0.0, None)
    # Every output centre lies within half a pixel of some input centre, so no row is zero.
    normalized: np.ndarray = weights / weights.sum(axis=1, keepdims=True)
    return normalized


@dataclass(frozen=True)
class DigitImage:
    """A digit read from a file, ready for the network."""

    pixels: np.ndarray  # (28, 28) float32 in [0, 1], white ink on black like MNIST
    original_size: tuple[int, int]  # (height, width) in the file
    inverted: bool  # the file had dark ink on a light background, so it was inverted

    @property
    def resized(self) -> bool:
        """The file was not 28x28, so its digit was centred and scaled into 28x28."""
        return self.original_size != (SIDE, SIDE)

    def notes(self) -> list[str]:
        """One line for each thing done to the file's pixels, for the user to see."""
        notes = []
        if self.inverted:
            notes.append("dark ink on a light background: inverted to MNIST's white on black")
        if self.resized:
            h, w = self.original_size
            notes.append(f"the image is {w}x{h}: its digit was centred and scaled into 28x28")
        return notes


def read_image(path: str | os.PathLike[str]) -> DigitImage:
    """Read a grayscale digit from a PNG or PGM file (P2 or P5, 8 or 16 bits).

    Other formats Pillow reads (JPEG, BMP...) work too; colour is converted to
    gray and transparency is laid over white. If most of the border is bright
    the image is taken to be dark ink on paper and inverted. A 28x28 image is
    returned as it is (the caller may still `center_and_scale` it). Any other
    size, such as a photo or a scan, has its gray paper levelled to black and
    is centred and scaled into 28x28. Every problem raises `DataError` with
    one line naming the file.
    """
    path = Path(path)
    name = str(path)
    st = check_input(path)
    if st is not None and is_stream(st):
        # A FIFO or device would block or never end: read it, capped, into a private copy.
        path = spool(path, MAX_FILE_BYTES, "an image of a digit may be")
    try:
        with path.open("rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size > MAX_FILE_BYTES:
                raise DataError(f"{name}: {size:,} bytes is too large for an image of a digit")
            # PGM is parsed here, so read whole; anything else is left to Pillow.
            magic = f.read(2)
            data = magic + f.read() if magic in (b"P2", b"P5") else None
    except OSError as exc:
        raise read_failure(name, exc, "not an image") from None
    if size == 0:
        raise DataError(f"{name}: the file is empty")
    gray = _parse_pgm(data, name) if data is not None else _read_with_pillow(path, name)
    if float(gray.max() - gray.min()) < 1 / 255:
        raise DataError(f"{name}: the image is blank (a single shade), there is no digit in it")
    inverted = _background_is_light(gray)
    if inverted:
        gray = 1.0 - gray
    shape = (int(gray.shape[0]), int(gray.shape[1]))
    if shape == (SIDE, SIDE):
        pixels = gray.astype(np.float32)
    else:
        pixels = center_and_scale(_level_background(gray))
    return DigitImage(pixels=pixels, original_size=shape, inverted=inverted)


def _background_is_light(gray: np.ndarray) -> bool:
    """True if most of the outermost ring of pixels is brighter than mid-gray."""
    return bool(np.median(_border(gray)) > 0.5)


def _level_background(gray: np.ndarray) -> np.ndarray:
    """Make gray paper (a photo, a scan) black, so that only the ink counts as ink.

    An image whose border is already black, such as an MNIST digit saved as a
    file, is returned unchanged.
    """
    background = float(np.median(_border(gray)))
    peak = float(gray.max())
    if background <= 0.0 or peak <= background:
        return gray
    stretched = (gray - background) / (peak - background)
    # The paper's grain and JPEG's ripples are not ink.
    return np.where(stretched < 0.1, 0.0, np.clip(stretched, 0.0, 1.0))


def _border(gray: np.ndarray) -> np.ndarray:
    """The outermost ring of pixels, each once."""
    if min(gray.shape) <= 2:
        return gray.ravel()
    return np.concatenate([gray[0], gray[-1], gray[1:-1, 0], gray[1:-1, -1]])


def _read_with_pillow(path: Path, name: str) -> np.ndarray:
    """Gray levels in [0, 1], float64 (h, w), of an image Pillow can read."""
    from PIL import Image, UnidentifiedImageError  # imported here: only `predict` needs it

    try:
        with warnings.catch_warnings():
            # Pillow warns (two lines on stderr) about an image between its limit and
            # twice that; here any image that large is refused in one line instead.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(path)
        with img:
            w, h = img.size
            if w * h > MAX_PIXELS:
                raise DataError(
                    f"{name}: a {w}x{h} image is too large (at most {MAX_PIXELS:,} pixels)"
                )
            img.load()
            return _pillow_gray(img)
    except UnidentifiedImageError:
        raise DataError(f"{name}: not an image (expected a PNG or PGM file)") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise DataError(f"{name}: the image is too large to read safely") from None
    except (OSError, ValueError, SyntaxError) as exc:
        raise DataError(f"{name}: unreadable image ({reason(exc)})") from None


def _pillow_gray(img: Any) -> np.ndarray:  # img: PIL.Image.Image (Pillow is optional)
    if img.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        # 16-bit grayscale: convert("L") would clip at 255 instead of scaling.
        return np.asarray(img, dtype=np.float64) / 65535.0
    if img.mode == "F":
        return np.clip(np.asarray(img, dtype=np.float64), 0.0, 1.0)
    has_alpha = img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info
    if not has_alpha:
        return np.asarray(img.convert("L"), dtype=np.float64) / 255.0
    from PIL import Image

    rgba = img.convert("RGBA")
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    gray = np.asarray(Image.alpha_composite(white, rgba).convert("L"), dtype=np.float64) / 255.0
    if float(gray.max() - gray.min()) < 1 / 255:
        # White ink on a transparent background vanishes over white: try black.
        black = Image.new("RGBA", rgba.size, (0, 0, 0, 255))
        gray = np.asarray(Image.alpha_composite(black, rgba).convert("L"), dtype=np.float64)
        gray /= 255.0
    return gray


def _parse_pgm(data: bytes, name: str) -> np.ndarray:
    """Gray levels in [0, 1], float64 (h, w), of a PGM file: P2 (text) or P5 (binary).

    The header is the magic number, then width, height and the maximum value
    (1..65535), separated by whitespace, with ``#`` comments to the end of a
    line. P5 samples are one byte each, or two (big-endian) if maxval > 255.
    """

    def bad(reason: str) -> DataError:
        return DataError(f"{name}: not a valid PGM file ({reason})")

    magic = data[:2]
    fields: list[int] = []
    pos = 2
    while len(fields) < 3:
        # Skip whitespace and comments, then read one decimal number.
        while pos < len(data) and (data[pos : pos + 1].isspace() or data[pos] == ord("#")):
            if data[pos] == ord("#"):
                end = data.find(b"\n", pos)
                pos = len(data) if end < 0 else end
            pos += 1
        start = pos
        while pos < len(data) and data[pos : pos + 1].isdigit():
            pos += 1
        if start == pos:
            what = ("width", "height", "maximum value")[len(fields)]
            raise bad(f"the header has no {what}")
        fields.append(int(data[start:pos]))
    width, height, maxval = fields
    if width == 0 or height == 0:
        raise bad(f"the image is {width}x{height}")
    if not 1 <= maxval <= 65535:
        raise bad(f"maximum value {maxval} is not from 1 to 65535")
    if width * height > MAX_PIXELS:
        raise DataError(
            f"{name}: a {width}x{height} image is too large (at most {MAX_PIXELS:,} pixels)"
        )
    count = width * height
    if magic == b"P5":
        if pos >= len(data) or not data[pos : pos + 1].isspace():
            raise bad("no whitespace after the maximum value")
        pos += 1  # exactly one whitespace byte separates the header from the samples
        dtype = np.dtype(">u2") if maxval > 255 else np.dtype("u1")
        needed = count * dtype.itemsize
        if len(data) - pos < needed:
            raise bad(
                f"truncated: {len(data) - pos} bytes of pixels, {width}x{height} needs {needed}"
            )
        samples = np.frombuffer(data, dtype=dtype, count=count, offset=pos)
    else:
        try:
            values = [int(t) for t in _strip_comments(data[pos:]).split()]
        except ValueError:
            raise bad("a pixel value is not a whole number") from None
        if len(values) < count:
            raise bad(f"truncated: {len(values)} pixel values, {width}x{height} needs {count}")
        samples = np.array(values[:count], dtype=np.int64)
    if int(samples.max()) > maxval:
        raise bad(f"a pixel value {int(samples.max())} exceeds the maximum value {maxval}")
    return samples.reshape(height, width).astype(np.float64) / maxval


def _strip_comments(text: bytes) -> bytes:
    return b"\n".join(line.split(b"#", 1)[0] for line in text.splitlines())

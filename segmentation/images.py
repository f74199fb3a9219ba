"""Reading image files and drawing what the command lines write (overlays, contact sheets)."""

from __future__ import annotations

import os
import stat
import struct
import tempfile
from pathlib import Path

import cv2
import numpy as np

from segmentation import files
from segmentation.steps import centre_window

# Suffixes of the image files that folders are searched for (the app's slideshows too).
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")
TILE_SIZE = 160  # Side in pixels of one picture in a contact sheet.
CAPTION_HEIGHT = 18  # Height in pixels of the caption strip under each contact-sheet row.


# Larger images are refused before they are decoded (100 megapixels take 300 MB as BGR), so
# that a stray panorama cannot exhaust the memory. Photos from phones and cameras are smaller.
MAX_IMAGE_PIXELS = 100_000_000


class ImageReadError(ValueError):
    """A file could not be read as an image (missing, empty, corrupt, too large, not an image)."""


def find_images(paths) -> list[Path]:
    """Image files among the given paths; folders are searched recursively, in sorted order.

    Files named explicitly are kept whatever their extension (and even when missing), so
    read_image reports the bad ones.
    """
    found = []
    for path in map(Path, paths):
        if path.is_dir():
            found.extend(sorted(candidate for candidate in path.rglob("*")
                                if candidate.is_file()
                                and candidate.suffix.lower() in IMAGE_SUFFIXES))
        else:
            found.append(path)
    return found


def list_images(folder: str | os.PathLike) -> list[Path]:
    """The image files directly in a folder (not its sub-folders), in name order."""
    return sorted(path for path in Path(folder).iterdir()
                  if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES)


def read_image(path: str | os.PathLike) -> np.ndarray:
    """Reads an image file as uint8 BGR; raises ImageReadError saying what was wrong.

    Only regular files are read: a pipe or a device named like an image is refused, not
    waited on.
    """
    path = Path(path)
    try:
        mode = path.stat().st_mode
        if stat.S_ISDIR(mode):
            raise ImageReadError(f"{path} is a folder, not an image file")
        if not stat.S_ISREG(mode):
            raise ImageReadError(f"{path} is not a regular file (a pipe, device or socket); "
                                 "give an image file")
        data = np.fromfile(path, dtype=np.uint8)
    except OSError as error:
        raise ImageReadError(f"cannot read {path}: {error.strerror or error}") from error
    return decode_image(data, path)


def decode_image(data, path: str | os.PathLike = "image") -> np.ndarray:
    """Decodes an image file's bytes as uint8 BGR; raises ImageReadError naming path.

    Images of more than MAX_IMAGE_PIXELS are refused, from their header when it is PNG, JPEG,
    BMP, WebP or TIFF (before decoding), otherwise once decoded.
    """
    data = np.frombuffer(data, dtype=np.uint8) if isinstance(data, bytes) else data
    if data.size == 0:
        raise ImageReadError(f"{path} is empty (0 bytes)")
    check_pixel_count(image_size(data), path)
    image = cv2.imdecode(data, cv2.IMREAD_COLOR)
    if image is None or image.size == 0:
        raise ImageReadError(f"{path} is not a readable image (corrupt or unsupported format)")
    check_pixel_count(image.shape[1::-1], path)
    return image


def check_pixel_count(size: tuple[int, int] | None, path) -> None:
    """Raises ImageReadError when a (width, height) holds more than MAX_IMAGE_PIXELS."""
    if size is not None and size[0] * size[1] > MAX_IMAGE_PIXELS:
        width, height = size
        raise ImageReadError(
            f"{path} is {width}x{height} pixels ({width * height / 1e6:.0f} megapixels), more "
            f"than the {MAX_IMAGE_PIXELS / 1e6:.0f} megapixels read; scale it down first")


# JPEG start-of-frame markers (baseline, progressive, lossless...), which hold the size.
JPEG_FRAME_MARKERS = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE,
                      0xCF}


def image_size(data: np.ndarray) -> tuple[int, int] | None:
    """(width, height) from the header of a PNG, JPEG, BMP, WebP or TIFF file's bytes.

    None when the format is another one or the header is cut short; nothing is decoded.
    """
    head = data[:32].tobytes()
    try:
        if head.startswith(b"\x89PNG\r\n\x1a\n"):
            return struct.unpack_from(">II", head, 16)
        if head.startswith(b"BM"):
            width, height = struct.unpack_from("<ii", head, 18)
            return abs(width), abs(height)
        if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
            return webp_size(head)
        if head[:4] in (b"II*\x00", b"MM\x00*"):
            return tiff_size(data)
        if head.startswith(b"\xff\xd8"):
            return jpeg_size(data)
    except struct.error:
        return None
    return None


def webp_size(head: bytes) -> tuple[int, int] | None:
    chunk = head[12:16]
    if chunk == b"VP8X":  # Extended: 24-bit width - 1 and height - 1.
        return (int.from_bytes(head[24:27], "little") + 1,
                int.from_bytes(head[27:30], "little") + 1)
    if chunk == b"VP8 ":  # Lossy: 14-bit sizes after the key-frame start code.
        width, height = struct.unpack_from("<HH", head, 26)
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L":  # Lossless: 14-bit width - 1 and height - 1 after the signature.
        bits = int.from_bytes(head[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    return None


def tiff_size(data: np.ndarray) -> tuple[int, int] | None:
    """The size in the first image directory of a TIFF file."""
    order = "<" if data[0] == ord("I") else ">"
    (offset,) = struct.unpack_from(order + "I", data, 4)
    (count,) = struct.unpack_from(order + "H", data, offset)
    values = {}
    for entry in range(count):
        tag, kind = struct.unpack_from(order + "HH", data, offset + 2 + 12 * entry)
        if tag in (256, 257):  # ImageWidth, ImageLength: a SHORT (3) or a LONG (4).
            values[tag] = struct.unpack_from(order + ("H" if kind == 3 else "I"), data,
                                             offset + 2 + 12 * entry + 8)[0]
    return (values[256], values[257]) if len(values) == 2 else None


def jpeg_size(data: np.ndarray) -> tuple[int, int] | None:
    """The size in a JPEG file's start-of-frame segment, found by walking the segments."""
    position = 2
    while position + 9 <= data.size:
        if data[position] != 0xFF:
            return None
        marker = int(data[position + 1])
        if marker == 0xFF:  # Fill byte.
            position += 1
            continue
        if marker in JPEG_FRAME_MARKERS:
            height, width = struct.unpack_from(">HH", data, position + 5)
            return width, height
        (length,) = struct.unpack_from(">H", data, position + 2)
        position += 2 + length
    return None


def draw_overlay(frame_bgr: np.ndarray, result, label: str | None, windows,
                 colour=(0, 255, 0)) -> np.ndarray:
    """A copy of the frame with the sampling squares, the garment's contour and box, and a label.

    The contour and the label are drawn in colour (BGR), the box in yellow and the centre
    squares the colour is sampled from (windows: their sides as fractions of the shorter side,
    as SegmentationConfig.sampling_windows gives them) in magenta. label None means the
    result's reason.
    """
    overlay = frame_bgr.copy()
    height, width = frame_bgr.shape[:2]
    thickness = max(1, round(max(height, width) / 320))
    for window in windows:
        x, y, w, h = centre_window(frame_bgr.shape, window)
        cv2.rectangle(overlay, (x, y), (x + w, y + h), (255, 0, 255), 1)
    if result.contour is not None:
        cv2.drawContours(overlay, [result.contour], -1, colour, thickness)
    if result.box is not None:
        x, y, w, h = result.box
        cv2.rectangle(overlay, (x, y), (x + w - 1, y + h - 1), (0, 255, 255), 1)
    text = label if label is not None else (result.reason or "")
    if text:
        scale = max(0.6, height / 600)
        text_thickness = max(1, round(scale * 2))
        (text_width, text_height), baseline = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX,
                                                              scale, text_thickness)
        # On a black box, so that the label reads on any background.
        cv2.rectangle(overlay, (8, 8), (20 + text_width, 20 + text_height + baseline),
                      (0, 0, 0), -1)
        cv2.putText(overlay, text, (14, 14 + text_height), cv2.FONT_HERSHEY_SIMPLEX, scale,
                    colour, text_thickness, cv2.LINE_AA)
    return overlay


def enlarge(image: np.ndarray, factor: int = 10) -> np.ndarray:
    """A small image enlarged with nearest-neighbour pixels, so each pixel stays visible."""
    return cv2.resize(image, None, fx=factor, fy=factor, interpolation=cv2.INTER_NEAREST)


def fit_tile(image: np.ndarray, size: int = TILE_SIZE) -> np.ndarray:
    """The image (grey or BGR) scaled to fit a size x size BGR tile, centred on dark grey."""
    tile = np.full((size, size, 3), 40, dtype=np.uint8)
    if image is None or image.size == 0:
        return tile
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    height, width = image.shape[:2]
    scale = size / max(height, width)
    new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
    small_image = image.shape[0] <= 64 and image.shape[1] <= 64
    interpolation = cv2.INTER_NEAREST if small_image else cv2.INTER_AREA
    resized = cv2.resize(image, (new_w, new_h), interpolation=interpolation)
    top, left = (size - new_h) // 2, (size - new_w) // 2
    tile[top:top + new_h, left:left + new_w] = resized
    return tile


def contact_sheet(entries, tile_size: int = TILE_SIZE, entries_per_row: int = 1) -> np.ndarray:
    """One BGR picture from entries of (images, caption); each image becomes a tile.

    entries_per_row entries sit side by side; each caption goes under its own tiles.
    """
    entries = list(entries) or [([None], "nothing to show")]
    entry_width = max(len(images) for images, _ in entries) * tile_size
    row_height = tile_size + CAPTION_HEIGHT
    row_count = -(-len(entries) // entries_per_row)
    columns = min(entries_per_row, len(entries))
    sheet = np.zeros((row_count * row_height, columns * entry_width, 3), dtype=np.uint8)
    for entry_index, (images, caption) in enumerate(entries):
        top = (entry_index // entries_per_row) * row_height
        left = (entry_index % entries_per_row) * entry_width
        for column_index, image in enumerate(images):
            tile_left = left + column_index * tile_size
            sheet[top:top + tile_size, tile_left:tile_left + tile_size] = fit_tile(image, tile_size)
        characters = entry_width // 7  # About 7 pixels per character at this font scale.
        cv2.putText(sheet, caption[:characters], (left + 4, top + tile_size + 13),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 255), 1, cv2.LINE_AA)
    return sheet


def make_output_folder(path: str | os.PathLike) -> Path:
    """Creates the folder (and its parents) and checks that files can be written in it.

    Raises OSError with a message that says what was wrong, before any work is done.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise OSError(f"Cannot write into {path}: it is a file, not a folder. "
                      "Choose a folder (it is created when missing).")
    try:
        path.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=path).close()
    except OSError as error:
        raise OSError(f"Cannot write into {path}: {error.strerror or error}. "
                      "Choose a folder you can write to.") from error
    return path


def write_image(path: str | os.PathLike, image: np.ndarray):
    """Writes an image file (format by extension, PNG without one) whole or not at all;
    raises OSError when it cannot."""
    path = Path(path)
    ok, encoded = cv2.imencode(path.suffix or ".png", image)
    if not ok:
        raise OSError(f"could not encode {path}")
    path.parent.mkdir(parents=True, exist_ok=True)
    files.write_bytes(path, encoded)

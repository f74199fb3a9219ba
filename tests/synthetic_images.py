"""Synthetic photos for the segmentation tests: garment-like polygons on drawn backgrounds.

Every function returns plain uint8 BGR images, so the tests need no files and no camera.
"""

from __future__ import annotations

import cv2
import numpy as np

# A T-shirt outline in a unit square (x right, y down): sleeves, body, neckline.
TSHIRT_OUTLINE = np.array([
    (0.30, 0.00), (0.42, 0.06), (0.58, 0.06), (0.70, 0.00), (1.00, 0.22), (0.86, 0.40),
    (0.78, 0.34), (0.78, 1.00), (0.22, 1.00), (0.22, 0.34), (0.14, 0.40), (0.00, 0.22),
])
# A trouser outline in a unit square: waistband and two legs with a gap between them.
TROUSER_OUTLINE = np.array([
    (0.05, 0.00), (0.95, 0.00), (1.00, 1.00), (0.60, 1.00), (0.50, 0.30), (0.40, 1.00),
    (0.00, 1.00),
])
# A shoe seen from the side, in a unit square.
SHOE_OUTLINE = np.array([
    (0.00, 0.15), (0.35, 0.00), (0.55, 0.30), (1.00, 0.55), (1.00, 1.00), (0.00, 1.00),
])


def mirrored(outline: np.ndarray) -> np.ndarray:
    """The unit outline flipped left to right (a right shoe from a left one)."""
    return np.column_stack([1.0 - outline[:, 0], outline[:, 1]])


def polygon(outline: np.ndarray, left: int, top: int, width: int, height: int) -> np.ndarray:
    """The unit outline scaled into the box (left, top, width, height), as int32 (N, 1, 2)."""
    points = outline * np.array([width - 1, height - 1]) + np.array([left, top])
    return np.round(points).astype(np.int32).reshape(-1, 1, 2)


def plain_background(height: int, width: int, colour=(200, 200, 200)) -> np.ndarray:
    """A background of one BGR colour."""
    return np.full((height, width, 3), colour, dtype=np.uint8)


def textured_background(height: int, width: int, colour=(190, 200, 210),
                        amplitude: int = 18, seed: int = 0) -> np.ndarray:
    """A wood-grain-like background: wavy stripes plus blotches around one colour."""
    random = np.random.default_rng(seed)
    rows, columns = np.mgrid[0:height, 0:width].astype(np.float32)
    grain = np.sin(columns / 7.0 + 3 * np.sin(rows / 40.0)) * amplitude
    blotches = cv2.GaussianBlur(random.normal(0, amplitude, (height, width)).astype(np.float32),
                                (0, 0), 6) * 2
    shade = grain + blotches
    image = np.asarray(colour, dtype=np.float32)[None, None, :] + shade[..., None]
    return np.clip(image, 0, 255).astype(np.uint8)


def add_noise(image: np.ndarray, sigma: float = 12, seed: int = 0) -> np.ndarray:
    """The image with Gaussian pixel noise, like a dim webcam."""
    random = np.random.default_rng(seed)
    noisy = image.astype(np.float32) + random.normal(0, sigma, image.shape)
    return np.clip(noisy, 0, 255).astype(np.uint8)


def draw_garment(image: np.ndarray, points: np.ndarray, colour) -> tuple[int, int, int, int]:
    """Fills the polygon with one BGR colour in place; returns its (x, y, w, h) box."""
    cv2.fillPoly(image, [points], tuple(int(channel) for channel in colour))
    return cv2.boundingRect(points)


def hsv_colour(hue: int, saturation: int = 200, value: int = 160) -> tuple[int, int, int]:
    """The BGR colour of an OpenCV HSV colour (hue 0-179)."""
    pixel = np.array([[[hue, saturation, value]]], dtype=np.uint8)
    return tuple(int(channel) for channel in cv2.cvtColor(pixel, cv2.COLOR_HSV2BGR)[0, 0])


def box_iou(box_a, box_b) -> float:
    """Intersection over union of two (x, y, w, h) boxes."""
    ax, ay, aw, ah = box_a
    bx, by, bw, bh = box_b
    inter_w = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    inter_h = max(0, min(ay + ah, by + bh) - max(ay, by))
    intersection = inter_w * inter_h
    union = aw * ah + bw * bh - intersection
    return intersection / union if union else 0.0


def union_box(*boxes) -> tuple[int, int, int, int]:
    """The smallest (x, y, w, h) box holding all the boxes."""
    left = min(box[0] for box in boxes)
    top = min(box[1] for box in boxes)
    right = max(box[0] + box[2] for box in boxes)
    bottom = max(box[1] + box[3] for box in boxes)
    return left, top, right - left, bottom - top


def tshirt_photo(height=480, width=640, size=0.6, centre=(0.5, 0.5), colour=(60, 40, 150),
                 background="plain", background_colour=(200, 200, 200), seed=0):
    """A one-colour T-shirt on a background; returns (image, true box).

    size is the T-shirt's height as a fraction of the frame height; centre is where the
    T-shirt's box centre sits, as fractions of width and height.
    """
    if background == "textured":
        image = textured_background(height, width, background_colour, seed=seed)
    else:
        image = plain_background(height, width, background_colour)
    garment_height = round(height * size)
    garment_width = round(garment_height * 1.1)
    left = round(centre[0] * width - garment_width / 2)
    top = round(centre[1] * height - garment_height / 2)
    box = draw_garment(image, polygon(TSHIRT_OUTLINE, left, top, garment_width, garment_height),
                       colour)
    box = clip_box(box, image.shape)
    if background == "noisy":
        image = add_noise(image, seed=seed)
    return image, box


def clip_box(box, shape) -> tuple[int, int, int, int]:
    """The (x, y, w, h) box clipped to an image of the given shape."""
    x, y, w, h = box
    left, top = max(0, x), max(0, y)
    right, bottom = min(shape[1], x + w), min(shape[0], y + h)
    return left, top, right - left, bottom - top


def lit_wall(height: int = 480, width: int = 640, colour=(185, 175, 165), gain=(0.85, 1.1),
             direction: str = "horizontal", sigma: float = 4, seed: int = 0) -> np.ndarray:
    """A plain wall lit unevenly: brightness goes smoothly from gain[0] to gain[1], plus noise.

    direction is "horizontal" (left to right), "vertical" (top to bottom) or "radial" (centre
    to corners, like a lamp in front of the wall).
    """
    rows, columns = np.mgrid[0:height, 0:width].astype(np.float32)
    if direction == "horizontal":
        position = columns / (width - 1)
    elif direction == "vertical":
        position = rows / (height - 1)
    elif direction == "radial":
        position = np.hypot(columns - width / 2, rows - height / 2) / np.hypot(width / 2, height / 2)
    else:
        raise ValueError(f"direction must be horizontal, vertical or radial, got {direction!r}.")
    shade = gain[0] + (gain[1] - gain[0]) * position
    image = np.asarray(colour, dtype=np.float32)[None, None, :] * shade[..., None]
    return add_noise(np.clip(image, 0, 255).astype(np.uint8), sigma, seed)


def write_video(path, frames, frames_per_second=30):
    """Writes BGR frames as an MJPG video that OpenCV reads back."""
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), frames_per_second,
                             (width, height))
    assert writer.isOpened()
    for frame in frames:
        writer.write(frame)
    writer.release()


# A labels file for make_photo_folder's two folders (model.photos format).
LABELS = "folder,accepted_classes,group_classes\nt-shirt,0,0 2 4 6\npants,1,1\n"


def trouser_photo(seed: int):
    """A 240x320 photo of a trouser on a plain background; seed varies its colours."""
    image = plain_background(240, 320, (200, 200 - seed, 200))
    draw_garment(image, polygon(TROUSER_OUTLINE, 110, 40, 100, 160), (120, 60, 20 + seed))
    return image


def make_photo_folder(root, count: int = 3):
    """count T-shirts and count trousers, plus a blank photo (no garment) and a corrupt file."""
    (root / "t-shirt").mkdir(parents=True)
    (root / "pants").mkdir()
    for index in range(count):
        image, _ = tshirt_photo(240, 320, size=0.5 + 0.05 * index, colour=(60, 40 + index, 150))
        cv2.imwrite(str(root / "t-shirt" / f"shirt{index}.png"), image)
        cv2.imwrite(str(root / "pants" / f"pants{index}.png"), trouser_photo(index))
    cv2.imwrite(str(root / "pants" / "blank.png"), plain_background(240, 320))
    (root / "t-shirt" / "corrupt.jpg").write_bytes(b"not a jpeg at all")
    (root / "labels.csv").write_text(LABELS)
    return root

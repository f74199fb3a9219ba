"""Makes the demo clip that the app plays when there is no camera (assets/demo.mp4).

    python -m camera_app.make_demo                       # from the photos in assets/demo_material/
    python -m camera_app.make_demo --seconds-per-scene 2 --output /tmp/demo.mp4

Each photo of a garment (CC0, copied from the clothing-dataset-small collection) becomes a
scene as a webcam would see it: 640x480, the photo in the middle with its edges continued to the
sides, drifting and zooming slightly, with the light changing and sensor noise.
Empty scenes (a plain wall) sit between some garments, so the clip also shows "no garment".
The clip is deterministic: the same material and seed give the same frames.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

from model.paths import DEMO_MATERIAL_DIR, DEMO_VIDEO
from segmentation import files
from segmentation.images import ImageReadError, list_images, read_image

FRAME_SIZE = (640, 480)  # Width, height: a common webcam resolution.
FRAMES_PER_SECOND = 15
SECONDS_PER_SCENE = 3.0  # How long each garment is shown, by default.
EMPTY_EVERY = 3  # An empty wall after every n-th garment, by default.
WALL = "wall"  # The name of an empty scene.


def frame_the_photo(photo: np.ndarray) -> np.ndarray:
    """Fits the photo into a 640x480 frame; the sides continue its edges, blurred."""
    width, height = FRAME_SIZE
    scale = height / photo.shape[0]
    fitted = cv2.resize(photo, (round(photo.shape[1] * scale), height), interpolation=cv2.INTER_AREA)
    fitted = fitted[:, :width]
    left = (width - fitted.shape[1]) // 2
    right = width - fitted.shape[1] - left
    framed = cv2.copyMakeBorder(fitted, 0, 0, left, right, cv2.BORDER_REPLICATE)
    blurred = cv2.GaussianBlur(framed, (0, 0), 9)
    framed[:, :left] = blurred[:, :left]
    framed[:, width - right:] = blurred[:, width - right:]
    return framed


def empty_wall(random: np.random.Generator) -> np.ndarray:
    """A plain, softly lit wall with a little texture: a scene without a garment."""
    width, height = FRAME_SIZE
    colour = random.uniform(150, 215, size=3)
    gradient = np.linspace(0.85, 1.1, width)[np.newaxis, :, np.newaxis]
    texture = cv2.GaussianBlur(random.normal(0, 6, (height, width, 1)), (0, 0), 3)[..., np.newaxis]
    return np.clip(colour * gradient + texture, 0, 255).astype(np.uint8)


def camera_view(scene: np.ndarray, progress: float, phase: float,
                random: np.random.Generator) -> np.ndarray:
    """One frame of a scene: slight drift and zoom, changing light, sensor noise."""
    width, height = FRAME_SIZE
    angle = 2 * np.pi * progress + phase
    zoom = 1.04 + 0.03 * np.sin(angle)
    shift_x, shift_y = 10 * np.sin(angle * 0.7), 6 * np.cos(angle)
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), 1.5 * np.sin(angle * 0.5), zoom)
    matrix[:, 2] += (shift_x, shift_y)
    moved = cv2.warpAffine(scene, matrix, (width, height), borderMode=cv2.BORDER_REFLECT)
    # Brightness drifts between about 75% and 115%, with a slightly warmer or cooler tint.
    gain = 0.95 + 0.2 * np.sin(angle + 1.0)
    tint = np.array([1 - 0.04 * np.sin(angle), 1.0, 1 + 0.04 * np.sin(angle)])
    noise = random.normal(0, 3.0, moved.shape)
    return np.clip(moved * gain * tint + noise, 0, 255).astype(np.uint8)


def demo_layout(material: list[Path], empty_every: int) -> list[tuple[str, np.ndarray | None]]:
    """The clip's scenes in order: (name, photo) for each readable photo, named by its file
    name without suffix, and (WALL, None) after every empty_every-th of them. Unreadable
    photos are reported and left out."""
    layout, garments = [], 0
    for path in material:
        try:
            photo = read_image(path)
        except ImageReadError as error:
            print(f"Skipping {path}: {error}.", file=sys.stderr)
            continue
        layout.append((Path(path).stem, photo))
        garments += 1
        if empty_every and garments % empty_every == 0:
            layout.append((WALL, None))
    return layout


def make_demo(material: list[Path], output: Path, seconds_per_scene: float, empty_every: int,
              seed: int = 0) -> int:
    """Writes the clip; returns the number of frames. Unreadable photos are reported and skipped."""
    random = np.random.default_rng(seed)
    scenes = [frame_the_photo(photo) if photo is not None else empty_wall(random)
              for _, photo in demo_layout(material, empty_every)]
    if not scenes:
        raise ValueError(f"No readable photos among {len(material)} files; give a folder of "
                         f"garment photos (.jpg) with --material (default {DEMO_MATERIAL_DIR}).")
    output.parent.mkdir(parents=True, exist_ok=True)
    # Written whole or not at all: a broken or interrupted run leaves the old clip.
    with files.atomic_path(output) as partial:
        writer = cv2.VideoWriter(str(partial), cv2.VideoWriter_fourcc(*"mp4v"),
                                 FRAMES_PER_SECOND, FRAME_SIZE)
        if not writer.isOpened():
            raise OSError(f"OpenCV cannot write {output} (mp4v); check the path and OpenCV's "
                          "FFmpeg.")
        frames_per_scene = max(1, round(seconds_per_scene * FRAMES_PER_SECOND))
        count = 0
        for scene_index, scene in enumerate(scenes):
            phase = random.uniform(0, 2 * np.pi)
            for frame_index in range(frames_per_scene):
                writer.write(camera_view(scene, frame_index / frames_per_scene, phase, random))
                count += 1
            print(f"Scene {scene_index + 1}/{len(scenes)} written ({count} frames).",
                  flush=True)
        writer.release()
    return count


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m camera_app.make_demo", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--material", type=Path, default=DEMO_MATERIAL_DIR,
                        help="folder of garment photos, used in name order "
                             f"(default: {DEMO_MATERIAL_DIR})")
    parser.add_argument("--output", type=Path, default=DEMO_VIDEO,
                        help=f"where to write the clip (default: {DEMO_VIDEO})")
    parser.add_argument("--seconds-per-scene", type=float, default=SECONDS_PER_SCENE,
                        help=f"how long each garment is shown (default: {SECONDS_PER_SCENE:g})")
    parser.add_argument("--empty-every", type=int, default=EMPTY_EVERY,
                        help="an empty wall after every n-th garment; 0 for none "
                             f"(default: {EMPTY_EVERY})")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    arguments = parser.parse_args(argv)
    if arguments.seconds_per_scene <= 0:
        parser.error("--seconds-per-scene must be positive.")
    if not arguments.material.is_dir():
        parser.error(f"--material {arguments.material} is not a folder; give a folder of "
                     "garment photos.")
    try:
        count = make_demo(list_images(arguments.material), arguments.output,
                          arguments.seconds_per_scene, arguments.empty_every, arguments.seed)
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    size = arguments.output.stat().st_size / 1e6
    print(f"Wrote {arguments.output}: {count} frames at {FRAMES_PER_SECOND} FPS, {size:.2f} MB.")
    return 0


if __name__ == "__main__":
    from segmentation.command import run_command

    raise SystemExit(run_command(main))

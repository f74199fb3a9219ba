"""Fashion-MNIST training images seen through the segmentation pipeline, for training.

    python -m experiments.synthetic --out runs/pipeline_images.npz       # 13 min on 2 cores
    python -m experiments.synthetic --split test --out runs/pipeline_test.npz
    python -m experiments.synthetic --out /tmp/check.npz --limit 2000 --sheet /tmp/check.png
    python -m experiments.interpolate START.keras FINETUNED.keras \\
        --pipeline-images runs/pipeline_images.npz --out runs/wise    # robustness per weight

Each training image is rendered as a photo (the garment tinted in a random colour, placed
near the centre of a plain, blotchy or striped background with uneven light, noise and
blur) and brought back to 28x28 by `segment`, with the app's settings. The model thus
trains on the pipeline's real artefacts: ragged or spilled masks, background between
trouser legs, gaps in prints, resampling and contrast changes. Writes an .npz with `images`
(uint8, aligned with the split's images; an image the pipeline did not find stays as it
was), `found`, the split and the dataset's checksum, which the readers check.

Until 2026-12-05 model.train (--pipeline-images, --pipeline-probability) and model.evaluate
(--pipeline-images) read these files; no shipped recipe used them, and the options were
removed (docs/experiments.md says what training on pipeline images gave).
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from model.data import FashionMnist
from segmentation import images as image_files
from segmentation.config import SegmentationConfig
from segmentation.pipeline import segment

# Weights of the blue, green and red channels in OpenCV's BGR-to-grey conversion.
GREY_WEIGHTS = np.array([0.114, 0.587, 0.299], dtype=np.float32)


@dataclass(frozen=True)
class PhotoRenderConfig:
    # Smallest and largest side of the garment's square in the photo, in pixels.
    garment_side: tuple = (56, 150)
    # Share of the photo's height that the garment's square takes (the rest is background).
    fill: tuple = (0.45, 0.85)
    # Largest offset of the garment from the photo's centre, as a fraction of its size.
    centre_jitter: float = 0.06
    # Largest saturation of the garment's and the background's colours (0-255).
    max_saturation: int = 220
    # Largest relative change of light across the photo (a linear gradient).
    max_gradient: float = 0.25
    # Largest relative shading inside the garment (folds and wrinkles).
    max_shading: float = 0.12
    # Largest standard deviation of the camera noise, in grey levels.
    max_noise: float = 6.0
    # Largest sigma of the Gaussian blur, in pixels.
    max_blur: float = 1.2


def smooth_noise(random: np.random.Generator, shape, sigma: float, amplitude: float):
    """Gaussian noise blurred by sigma pixels and scaled to the given standard deviation."""
    noise = cv2.GaussianBlur(random.normal(0, 1, shape).astype(np.float32), (0, 0), sigma)
    return noise * (amplitude / (float(noise.std()) + 1e-6))


def random_colour(random: np.random.Generator, max_saturation: int) -> np.ndarray:
    """A bright BGR colour (float32, 0-255) of random hue and saturation."""
    hsv = np.uint8([[[random.integers(0, 180), random.integers(0, max_saturation + 1), 255]]])
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)[0, 0].astype(np.float32)


def silhouette(image: np.ndarray) -> np.ndarray:
    """1 inside the garment's outline (holes filled), 0 outside, as uint8."""
    solid = (image > 0).astype(np.uint8)
    contours, _ = cv2.findContours(solid, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    cv2.drawContours(solid, contours, -1, 1, cv2.FILLED)
    return solid


def background(random: np.random.Generator, height: int, width: int, config: PhotoRenderConfig):
    """A float32 BGR background: one colour, plain, blotchy or striped."""
    colour = random.uniform(20, 240) / 255.0 * random_colour(random, config.max_saturation)
    image = np.empty((height, width, 3), np.float32)
    image[:] = colour
    kind = random.integers(0, 3)
    if kind == 1:  # Blotches: carpets, wood, a bed cover.
        blotches = smooth_noise(random, (height, width), random.uniform(1, 15),
                                random.uniform(5, 35))
        image += blotches[..., None]
    elif kind == 2:  # Stripes in a second colour: tiles, fabric.
        angle, period = random.uniform(0, np.pi), random.uniform(4, 30)
        rows, columns = np.mgrid[0:height, 0:width].astype(np.float32)
        wave = np.sin((columns * np.cos(angle) + rows * np.sin(angle)) * (2 * np.pi / period))
        stripe_colour = random_colour(random, config.max_saturation) / 255.0
        image += (wave * random.uniform(8, 40))[..., None] * stripe_colour
    return image


def render_photo(image: np.ndarray, random: np.random.Generator,
                 config: PhotoRenderConfig = PhotoRenderConfig()) -> np.ndarray:
    """A uint8 BGR photo of the Fashion-MNIST garment (28x28 uint8) near the centre."""
    side = int(random.integers(config.garment_side[0], config.garment_side[1] + 1))
    height = int(side / random.uniform(*config.fill))
    width = max(side + 8, int(height * random.choice([4 / 3, 3 / 4, 1.0])))
    photo = background(random, height, width, config)
    # Fashion-MNIST intensities are negated photo greys. Its edge pixels fade into the white
    # of the original product photo, so spread the edge values outwards before negating:
    # otherwise every garment gets a light rim.
    shape = silhouette(image)
    edge = shape - cv2.erode(shape, np.ones((3, 3), np.uint8))
    source = image.astype(np.float32)
    for _ in range(2):
        source = np.where(edge + (1 - shape) > 0, cv2.dilate(source, np.ones((3, 3))), source)
    size = (side, side)
    grey = 255.0 - np.clip(cv2.resize(source, size, interpolation=cv2.INTER_CUBIC), 0, 255)
    alpha = cv2.resize(shape.astype(np.float32), size, interpolation=cv2.INTER_LINEAR)[..., None]
    # Scaled so that its grey is 1, the tint keeps the garment's grey levels (up to clipping).
    tint = random_colour(random, config.max_saturation)
    tint /= max(1.0, float(tint @ GREY_WEIGHTS))
    shading = 1 + smooth_noise(random, size, random.uniform(2, 8),
                               random.uniform(0, config.max_shading))
    garment = grey[..., None] * tint * shading[..., None]
    left = (width - side) / 2 + random.uniform(-1, 1) * config.centre_jitter * width
    top = (height - side) / 2 + random.uniform(-1, 1) * config.centre_jitter * height
    left, top = int(np.clip(left, 0, width - side)), int(np.clip(top, 0, height - side))
    region = photo[top:top + side, left:left + side]
    region[:] = region * (1 - alpha) + garment * alpha
    rows, columns = np.mgrid[0:height, 0:width].astype(np.float32)
    light = (1 + random.uniform(-1, 1) * config.max_gradient * (columns / width - 0.5)
             + random.uniform(-1, 1) * config.max_gradient * (rows / height - 0.5))
    photo = photo * light[..., None] + random.normal(0, random.uniform(0, config.max_noise),
                                                     photo.shape).astype(np.float32)
    photo = np.clip(photo, 0, 255).astype(np.uint8)
    blur = random.uniform(0, config.max_blur)
    return cv2.GaussianBlur(photo, (0, 0), blur) if blur > 0.3 else photo


def through_pipeline(image: np.ndarray, random: np.random.Generator, photo_config: PhotoRenderConfig,
                     segmentation_config: SegmentationConfig):
    """(model input, found): the image rendered as a photo and segmented to 28x28."""
    result = segment(render_photo(image, random, photo_config), segmentation_config)
    return (result.model_input if result.found else image), result.found


def _work(job):
    """One chunk of images for a worker process; seeds depend on the image index only."""
    start, images, seed, photo_config, segmentation_config = job
    outputs, found = [], []
    for offset, image in enumerate(images):
        random = np.random.default_rng([seed, start + offset])
        model_input, ok = through_pipeline(image, random, photo_config, segmentation_config)
        outputs.append(model_input)
        found.append(ok)
    return start, np.stack(outputs), np.array(found)


def pipeline_images(images: np.ndarray, seed: int = 0, processes: int = 0,
                    photo_config: PhotoRenderConfig = PhotoRenderConfig(),
                    segmentation_config: SegmentationConfig = SegmentationConfig(),
                    progress: bool = False):
    """(images seen through the pipeline, found flags) for uint8 (N, 28, 28) images.

    The result does not depend on the number of processes (0: one per core).
    """
    if images.ndim != 3 or images.shape[1:] != (28, 28) or images.dtype != np.uint8:
        raise ValueError(f"images must be uint8 (N, 28, 28), got {images.dtype} {images.shape}.")
    chunk = 500
    jobs = [(start, images[start:start + chunk], seed, photo_config, segmentation_config)
            for start in range(0, len(images), chunk)]
    outputs = np.empty_like(images)
    found = np.zeros(len(images), dtype=bool)
    processes = processes or multiprocessing.cpu_count()
    with contextlib.ExitStack() as stack:
        results = map(_work, jobs)
        if processes > 1:
            # Fresh interpreters: a forked child can deadlock on OpenCV's threads in the parent.
            pool = stack.enter_context(multiprocessing.get_context("spawn").Pool(
                processes, initializer=cv2.setNumThreads, initargs=(1,)))
            results = pool.imap_unordered(_work, jobs)
        bar = stack.enter_context(tqdm(total=len(images), unit="image", file=sys.stderr,
                                       disable=not progress))
        for start, chunk_outputs, chunk_found in results:
            outputs[start:start + len(chunk_outputs)] = chunk_outputs
            found[start:start + len(chunk_found)] = chunk_found
            bar.update(len(chunk_found))
    return outputs, found


def contact_sheet(originals: np.ndarray, outputs: np.ndarray, seed: int,
                  photo_config: PhotoRenderConfig, indices) -> np.ndarray:
    """Original, photo and pipeline output of each index, three to a row, to look at."""
    entries = []
    for index in indices:
        photo = render_photo(originals[index], np.random.default_rng([seed, index]), photo_config)
        entries.append(([originals[index], photo, outputs[index]], f"image {index}"))
    return image_files.contact_sheet(entries, tile_size=112, entries_per_row=3)


def save_pipeline_images(path, images: np.ndarray, found: np.ndarray, split: str,
                         dataset: FashionMnist, how_made: dict) -> None:
    """Writes the images of one split seen through the segmentation pipeline (the file that
    load_pipeline_images reads); how_made (seed and settings) is kept as text beside them."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, images=images, found=found, split=split,
                        dataset_checksum=dataset.checksum,
                        **{key: str(value) for key, value in how_made.items()})


def load_pipeline_images(path: str | os.PathLike, dataset: FashionMnist,
                         split: str = "train") -> np.ndarray:
    """Images of one split seen through the segmentation pipeline, aligned with the dataset.

    The file comes from `python -m experiments.synthetic --split SPLIT`. Raises ValueError
    when it cannot be read or was made from other images.
    """
    expected = getattr(dataset, f"{split}_images")
    remake = f"make it with `python -m experiments.synthetic --split {split} --out FILE.npz`"
    try:
        with np.load(path) as archive:
            images, checksum = archive["images"], str(archive["dataset_checksum"])
            file_split = str(archive["split"])
    except (OSError, KeyError, ValueError) as error:
        raise ValueError(f"{path}: not readable as the output of experiments.synthetic "
                         f"({error}); {remake}.") from error
    if file_split != split or images.shape != expected.shape or checksum != dataset.checksum:
        raise ValueError(f"{path}: made from other data ({file_split} split, shape "
                         f"{images.shape}), not from all {split} images of this dataset; "
                         f"{remake} (no --limit).")
    return images


def main(argv=None) -> int:
    from model.data import DatasetError, load_fashion_mnist

    parser = argparse.ArgumentParser(prog="python -m experiments.synthetic", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, metavar="FILE.npz",
                        help="where to write the images")
    parser.add_argument("--data-dir", help="folder of the Fashion-MNIST IDX files")
    parser.add_argument("--split", choices=("train", "test"), default="train",
                        help="training images (for model.train) or test images (for "
                             "model.evaluate); default train")
    parser.add_argument("--seed", type=int, default=0, help="seed of the rendering (default 0)")
    parser.add_argument("--processes", type=int, default=0,
                        help="worker processes (default: one per core)")
    parser.add_argument("--limit", type=int, default=0,
                        help="only the first N images, for a quick look (the file is then "
                             "refused by model.train and model.evaluate)")
    parser.add_argument("--sheet", type=Path, metavar="FILE.png",
                        help="also write original / photo / pipeline triples to look at")
    arguments = parser.parse_args(argv)
    try:
        for path in (arguments.out, arguments.sheet):
            if path is not None:
                image_files.make_output_folder(path.parent)
    except OSError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        dataset = load_fashion_mnist(arguments.data_dir)
    except DatasetError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    images = getattr(dataset, f"{arguments.split}_images")[:arguments.limit or None]
    photo_config = PhotoRenderConfig()
    segmentation_config = SegmentationConfig()
    outputs, found = pipeline_images(images, arguments.seed, arguments.processes, photo_config,
                                     segmentation_config, progress=True)
    save_pipeline_images(arguments.out, outputs, found, arguments.split, dataset,
                         {"seed": arguments.seed, "photo_config": asdict(photo_config),
                          "segmentation_config": asdict(segmentation_config)})
    print(f"Wrote {arguments.out}: {len(images)} images, the pipeline found the garment in "
          f"{found.mean() * 100:.1f}% (the others stay as they were).")
    if arguments.sheet:
        sheet = contact_sheet(images, outputs, arguments.seed, photo_config,
                              range(min(18, len(images))))
        image_files.write_image(arguments.sheet, sheet)
        print(f"Wrote {arguments.sheet}")
    return 0


if __name__ == "__main__":
    from segmentation.command import run_command

    raise SystemExit(run_command(main))

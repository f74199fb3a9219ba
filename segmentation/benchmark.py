"""Time the segmentation pipeline per step on drawn frames (640x480 and 1920x1080 by default).

    python -m segmentation.benchmark
    python -m segmentation.benchmark --repeats 500 --sizes 640x480 3840x2160
    python -m segmentation.benchmark --preset classic   # the original tutorial's settings

Prints the median and 95th percentile milliseconds of each step and of the whole call.
The goal is a median of at most 3 ms per 640x480 frame. Figures are noisy when other
programs (a training run) share the CPU; run it on an idle machine for numbers to quote.
"""

from __future__ import annotations

import argparse
import sys
import time

import cv2
import numpy as np
from tqdm import tqdm

from segmentation.options import add_config_arguments, config_from_arguments
from segmentation.pipeline import segment


def benchmark_frame(width: int, height: int) -> np.ndarray:
    """A frame like a webcam's: a dark garment on a textured, noisy light background."""
    random = np.random.default_rng(0)
    rows, columns = np.mgrid[0:height, 0:width].astype(np.float32)
    shade = np.sin(columns / (width / 90) + 3 * np.sin(rows / (height / 12))) * 15
    frame = np.clip(np.array([185, 200, 210], np.float32) + shade[..., None], 0, 255)
    frame = frame.astype(np.uint8)
    outline = np.array([(0.30, 0.00), (0.42, 0.06), (0.58, 0.06), (0.70, 0.00), (1.00, 0.22),
                        (0.86, 0.40), (0.78, 0.34), (0.78, 1.00), (0.22, 1.00), (0.22, 0.34),
                        (0.14, 0.40), (0.00, 0.22)])
    size = 0.6 * height
    points = outline * size + np.array([(width - size) / 2, (height - size) / 2])
    cv2.fillPoly(frame, [np.round(points).astype(np.int32)], (120, 50, 30))
    noise = random.normal(0, 6, frame.shape)
    return np.clip(frame + noise, 0, 255).astype(np.uint8)


def parse_size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(value) for value in text.lower().split("x"))
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"size must look like 640x480, got {text!r}") from error
    if width < 1 or height < 1:
        raise argparse.ArgumentTypeError(f"size must be positive, got {text!r}")
    return width, height


def time_pipeline(frame: np.ndarray, config, repeats: int) -> dict[str, np.ndarray]:
    """Milliseconds per step and in total over repeated calls (after two warm-up calls)."""
    for _ in range(2):
        segment(frame, config)
    step_times, totals = {}, []
    for _ in tqdm(range(repeats), desc="calls", unit="call", file=sys.stderr):
        started = time.perf_counter()
        result = segment(frame, config)
        totals.append((time.perf_counter() - started) * 1000.0)
        for name, milliseconds in result.timings.items():
            step_times.setdefault(name, []).append(milliseconds)
    step_times = {name: np.array(values) for name, values in step_times.items()}
    step_times["total"] = np.array(totals)
    return step_times


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m segmentation.benchmark", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=300, help="calls per frame size")
    parser.add_argument("--sizes", type=parse_size, nargs="+",
                        default=[(640, 480), (1920, 1080)], help="frame sizes like 640x480")
    parser.add_argument("--threads", type=int, metavar="N",
                        help="OpenCV worker threads (default: OpenCV's choice; 1 is often "
                             "faster on small frames when the CPU is busy)")
    add_config_arguments(parser)
    arguments = parser.parse_args(argv)
    if arguments.threads is not None:
        cv2.setNumThreads(arguments.threads)
    if arguments.repeats < 1:
        parser.error("--repeats must be at least 1")
    try:
        config = config_from_arguments(arguments)
    except ValueError as error:
        parser.error(str(error))
    print(f"OpenCV {cv2.__version__}, {cv2.getNumThreads()} threads, variant {config.variant}, "
          f"work size {config.work_size}, {arguments.repeats} calls per size")
    for width, height in arguments.sizes:
        print(f"Timing {width}x{height} ...", file=sys.stderr)
        times = time_pipeline(benchmark_frame(width, height), config, arguments.repeats)
        print(f"\n{width}x{height}{'median ms':>16}{'p95 ms':>10}")
        for name, values in times.items():
            if name == "total":
                print("-" * 35)
            print(f"  {name:<18}{np.median(values):>8.3f}{np.percentile(values, 95):>10.3f}")
    return 0


if __name__ == "__main__":
    from segmentation.command import run_command

    raise SystemExit(run_command(main))

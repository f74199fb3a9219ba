"""Times the app's per-frame work on the demo clip, without a display.

    python -m camera_app.benchmark --frames 300
    python -m camera_app.benchmark --frames 300 --source clip.mp4 --no-flip

Frames are read from the source first (decoding is not part of the app's per-frame cost),
resized to 640x480, then each goes through process_frame: segmentation, inference (with flip
averaging unless --no-flip) and overlay, exactly as the app's worker runs it. Prints frames
per second and the median and 95th percentile of each stage. The goal is a median total of
at most 10 ms on 640x480 frames.
"""

from __future__ import annotations

import argparse
import time

import cv2
import numpy as np

from camera_app.pipeline import FrameSettings, SteadyAnswer, process_frame
from camera_app.sources import open_source
from model.predictor import load_predictor

STAGES = ("segmentation", "inference", "overlay", "total")


def read_frames(spec: str, count: int) -> list[np.ndarray]:
    """Up to count frames from the source (a clip is looped), resized to 640x480."""
    source = open_source(spec, loop=True)
    frames = []
    try:
        while len(frames) < count:
            frame = source.read()
            if frame is None:
                break
            frames.append(cv2.resize(frame, (640, 480), interpolation=cv2.INTER_AREA))
    finally:
        source.release()
    return frames


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=300, help="frames to time (default: 300)")
    parser.add_argument("--source", default="demo", help="video file, image folder or 'demo'")
    parser.add_argument("--model", default=None, help="a .tflite model (default: the shipped one)")
    parser.add_argument("--no-flip", action="store_true", help="one inference per frame, no flip")
    parser.add_argument("--warm-up", type=int, default=10, help="untimed frames first (default: 10)")
    arguments = parser.parse_args(argv)
    if arguments.frames < 1:
        parser.error("--frames must be at least 1.")

    started = time.perf_counter()
    predictor = load_predictor(arguments.model)
    print(f"Model loaded in {(time.perf_counter() - started) * 1000:.0f} ms.")
    frames = read_frames(arguments.source, arguments.frames)
    print(f"Read {len(frames)} frames of {arguments.source} at 640x480.")
    settings = FrameSettings(flip_augmentation=not arguments.no_flip)

    answer = SteadyAnswer()
    for frame in frames[:arguments.warm_up]:
        answer = process_frame(frame, predictor, settings, answer).answer
    timings = {stage: [] for stage in STAGES}
    found = 0
    labels = {}
    started = time.perf_counter()
    for index, frame in enumerate(frames, start=1):
        result = process_frame(frame, predictor, settings, answer)
        answer = result.answer
        found += result.segmentation.found
        labels[answer.text] = labels.get(answer.text, 0) + 1
        for stage in STAGES:
            timings[stage].append(result.timings[stage])
        if index % 100 == 0 or index == len(frames):
            print(f"  {index}/{len(frames)} frames", flush=True)
    elapsed = time.perf_counter() - started

    print(f"\n{len(frames)} frames in {elapsed:.2f} s: {len(frames) / elapsed:.1f} FPS "
          f"(flip averaging {'off' if arguments.no_flip else 'on'}).")
    print(f"{'stage':<14}{'median ms':>10}{'p95 ms':>10}")
    for stage in STAGES:
        values = np.array(timings[stage])
        print(f"{stage:<14}{np.median(values):>10.2f}{np.percentile(values, 95):>10.2f}")
    print(f"Garment found in {found}/{len(frames)} frames. Shown answers: "
          + ", ".join(f"{text} {count}" for text, count in sorted(labels.items(), key=lambda item: -item[1])))


if __name__ == "__main__":
    main()

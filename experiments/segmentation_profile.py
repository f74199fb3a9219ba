"""The segmentation's cost per frame on the demo clip: Python calls and time (cProfile), and the
median of each step.

    python -m experiments.segmentation_profile [--frames 200] [--top 25]
    PYTHONPATH=OTHER_CHECKOUT python experiments/segmentation_profile.py   # its segmentation

Frames are read from the demo clip at 640x480 (as camera_app.benchmark does), 10 untimed first.
Prints the median ms of segment() per frame without the profiler, the median ms of each step
(SegmentationResult.timings), then cProfile's calls per frame and its slowest functions.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import time

import numpy as np

from camera_app.benchmark import read_frames
from segmentation import SegmentationConfig, segment


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=200, help="demo frames (default 200)")
    parser.add_argument("--top", type=int, default=25, help="functions listed (default 25)")
    arguments = parser.parse_args(argv)
    import segmentation

    print(f"segmentation from {segmentation.__file__}")
    frames, config = read_frames("demo", arguments.frames), SegmentationConfig()
    for frame in frames[:10]:
        segment(frame, config)
    seconds, steps = [], {}
    for frame in frames:
        started = time.perf_counter()
        result = segment(frame, config)
        seconds.append(time.perf_counter() - started)
        for name, value in result.timings.items():
            steps.setdefault(name, []).append(value)
    print(f"segment(): median {np.median(seconds) * 1000:.3f} ms per frame over {len(frames)} "
          "frames")
    for name, values in steps.items():
        print(f"  {name:<16}{np.median(values):7.3f} ms  ({len(values)} frames)")
    profile = cProfile.Profile()
    profile.enable()
    for frame in frames:
        segment(frame, config)
    profile.disable()
    stats = pstats.Stats(profile)
    calls = sum(entry[1] for entry in stats.stats.values())
    print(f"cProfile: {calls / len(frames):.0f} Python calls per frame, "
          f"{stats.total_tt / len(frames) * 1000:.2f} ms per frame under the profiler")
    text = io.StringIO()
    pstats.Stats(profile, stream=text).sort_stats("tottime").print_stats(arguments.top)
    print(text.getvalue())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

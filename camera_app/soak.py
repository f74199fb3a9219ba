"""The soak: frames through the app's per-frame work for a long time, watching the memory.

    python -m camera_app.benchmark --soak 600              # ten minutes of the demo clip
    python -m camera_app.benchmark --soak 600 --source photos/

Frames are read from the source (looped, unpaced) and go through process_frame with the
steady answer carried from frame to frame, as in the app's worker. The resident memory (RSS)
is printed at intervals against its level after a warm-up; a leak shows as steady growth.
"""

from __future__ import annotations

import os
import resource
import time

from camera_app.answer import SteadyAnswer, carried_over
from camera_app.frame import FrameSettings, process_frame
from camera_app.sources import open_source

WARM_UP_FRAMES = 100  # Frames before the baseline is taken (buffers are allocated on first use).


def rss_megabytes() -> float:
    """The resident memory of this process in MB (from /proc on Linux; else the peak so far)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3


def soak(spec: str, seconds: float, predictor, settings: FrameSettings,
         interval: float | None = None, warm_up: int = WARM_UP_FRAMES) -> dict:
    """Runs frames of the source through process_frame for seconds, printing RSS every interval
    (default: a tenth of the run, between 1 and 60 s) against the RSS after warm_up frames.
    Returns the figures of the last line.

    Raises SourceError when the source cannot be opened or read.
    """
    interval = interval or max(1.0, min(60.0, seconds / 10))
    source = open_source(spec, loop=True)
    answer, frames, baseline, peak = SteadyAnswer(), 0, None, 0.0
    started = time.perf_counter()
    next_report = started + interval
    print(f"Soak: {spec} through process_frame for {seconds:g} s, RSS every {interval:g} s.",
          flush=True)
    try:
        while (now := time.perf_counter()) - started < seconds:
            frame = source.read()
            if frame is None:  # A source that ends is opened again.
                source.release()
                source = open_source(spec, loop=True)
                continue
            answer = carried_over(answer, getattr(source, "new_scene", False))
            answer = process_frame(frame, predictor, settings, answer).answer
            frames += 1
            if frames == warm_up:
                baseline = rss_megabytes()
                print(f"  {now - started:6.0f} s {frames:8d} frames  RSS {baseline:7.1f} MB "
                      "(baseline after warm-up)", flush=True)
            if now >= next_report:
                rss = rss_megabytes()
                peak = max(peak, rss)
                growth = "" if baseline is None else f" ({rss - baseline:+.1f} MB)"
                print(f"  {now - started:6.0f} s {frames:8d} frames  RSS {rss:7.1f} MB{growth}",
                      flush=True)
                next_report = now + interval
    finally:
        source.release()
    elapsed, rss = time.perf_counter() - started, rss_megabytes()
    baseline = rss if baseline is None else baseline
    peak = max(peak, rss)
    print(f"Soak done: {frames} frames in {elapsed:.0f} s ({frames / elapsed:.1f} FPS); RSS "
          f"{baseline:.1f} MB after warm-up, {rss:.1f} MB at the end ({rss - baseline:+.1f} MB), "
          f"peak {peak:.1f} MB.", flush=True)
    return {"frames": frames, "baseline": baseline, "end": rss, "peak": peak}

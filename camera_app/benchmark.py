"""Times the app's per-frame work on the demo clip, without a display.

    python -m camera_app.benchmark --frames 300
    python -m camera_app.benchmark --frames 300 --source clip.mp4 --no-flip
    python -m camera_app.benchmark --frames 300 --worker     # through the app's worker thread
    python -m camera_app.benchmark --soak 600                # memory (RSS) over ten minutes
    python -m camera_app.benchmark --model M.tflite --taught 0 500   # cost of taught examples

Frames are read from the source first (decoding is not part of the app's per-frame cost),
resized to 640x480, then each is copied (so that it is in the CPU's cache, as a freshly
decoded frame is in the app) and goes through process_frame: segmentation, inference (with
flip averaging unless --no-flip) and overlay, exactly as the app's worker runs it. With --worker
the app's FrameWorker thread reads, decodes and processes the frames as fast as it can (no
pacing, no display), and the FPS includes decoding and the hand-over to the GUI thread.
Prints frames per second and the median and 95th percentile of each stage. The goal is a
median total of at most 10 ms on 640x480 frames.

With --taught N... each frame goes through process_frame with no taught set (teaching off)
and with taught sets of N random examples, taking turns frame by frame so that a busy machine
affects all alike; the model must give embeddings. Goal: 500 taught examples cost at most
0.3 ms per frame more than none.
"""

from __future__ import annotations

import argparse
import sys
import time

import cv2
import numpy as np

from PyQt5.QtCore import QCoreApplication

from camera_app.answer import SteadyAnswer
from camera_app.frame import FrameSettings, process_frame
from camera_app.soak import soak
from camera_app.sources import SourceError, open_source
from camera_app.worker import FrameWorker
from model.classes import NUM_CLASSES
from model.predictor import ModelLoadError, load_predictor
from model.taught import TaughtExamples

STAGES = ("segmentation", "inference", "overlay", "total")


class Tally:
    """Per-stage times, garments found and answers shown, without keeping the frames."""

    def __init__(self):
        self.timings = {stage: [] for stage in STAGES}
        self.found = 0
        self.answers = {}
        self.frame_size = "?"

    def add(self, result):
        for stage in STAGES:
            self.timings[stage].append(result.timings[stage])
        self.found += result.segmentation.found
        self.answers[result.answer.text] = self.answers.get(result.answer.text, 0) + 1
        self.frame_size = "x".join(str(side) for side in result.frame.shape[1::-1])

    @property
    def count(self) -> int:
        return len(self.timings["total"])


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


def run_worker(spec: str, count: int, predictor, settings: FrameSettings) -> Tally:
    """Results of the app's FrameWorker on the source, unpaced and without a display."""
    application = QCoreApplication.instance() or QCoreApplication([])
    source = open_source(spec, loop=True)
    source.frame_interval = 0.0  # As fast as possible: no playback pacing.
    worker = FrameWorker(source, predictor, settings)
    tally = Tally()

    def collect(result):
        tally.add(result)
        worker.result_shown()
        if tally.count % 100 == 0:
            print(f"  {tally.count}/{count} frames", flush=True)
        if tally.count >= count:
            application.quit()

    worker.result_ready.connect(collect)
    worker.source_ended.connect(application.quit)
    worker.source_failed.connect(lambda text: (print(text), application.quit()))
    worker.start()
    application.exec_()
    worker.stop()
    print(f"Worker dropped {worker.frames_dropped} frames while the consumer was busy.")
    return tally


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m camera_app.benchmark", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=300, help="frames to time (default: 300)")
    parser.add_argument("--source", default="demo", help="video file, image folder or 'demo'")
    parser.add_argument("--model", default=None, help="a .tflite model (default: the shipped one)")
    parser.add_argument("--no-flip", action="store_true", help="one inference per frame, no flip")
    parser.add_argument("--warm-up", type=int, default=10,
                        help="untimed frames first (default: 10)")
    parser.add_argument("--worker", action="store_true",
                        help="run the app's worker thread on the source (frames not resized)")
    parser.add_argument("--soak", type=float, metavar="SECONDS",
                        help="run frames through process_frame for SECONDS and print the memory "
                             "(RSS) at intervals (camera_app.soak)")
    parser.add_argument("--taught", type=int, nargs="+", metavar="N",
                        help="compare the cost with these numbers of taught examples "
                             "(e.g. 0 500)")
    arguments = parser.parse_args(argv)
    if arguments.frames < 1:
        parser.error("--frames must be at least 1.")
    if arguments.warm_up < 0 or (arguments.soak is not None and not arguments.soak > 0):
        parser.error("--warm-up must not be negative and --soak must be above 0.")
    if arguments.taught:
        return compare_taught(arguments)

    started = time.perf_counter()
    try:
        predictor = load_predictor(arguments.model)
    except ModelLoadError as error:
        parser.exit(2, f"{error}\n")
    print(f"Model loaded in {(time.perf_counter() - started) * 1000:.0f} ms.")
    settings = FrameSettings(flip_averaging=not arguments.no_flip)
    try:
        if arguments.soak is not None:
            soak(arguments.source, arguments.soak, predictor, settings)
            return 0
        open_source(arguments.source).release()  # A source that cannot be opened is named now.
    except SourceError as error:
        parser.exit(2, f"{error}\n")
    if arguments.worker:
        started, cpu_started = time.perf_counter(), time.process_time()
        tally = run_worker(arguments.source, arguments.frames, predictor, settings)
        elapsed, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    else:
        try:
            frames = read_frames(arguments.source, arguments.frames)
        except SourceError as error:
            parser.exit(2, f"{error}\n")
        print(f"Read {len(frames)} frames of {arguments.source} at 640x480.")
        answer = SteadyAnswer()
        for frame in frames[:arguments.warm_up]:
            answer = process_frame(frame, predictor, settings, answer).answer
        tally = Tally()
        started, cpu_started = time.perf_counter(), time.process_time()
        for index, frame in enumerate(frames, start=1):
            # A copy, as the decoder writes each frame in the app just before its work: 400
            # frames read first lie cold in memory, which made the segmentation's first resize
            # 0.2 ms slower than in the app (docs/experiments.md, 2026-12-05, "the frame, as the app
            # sees it").
            result = process_frame(frame.copy(), predictor, settings, answer)
            answer = result.answer
            tally.add(result)
            if index % 100 == 0 or index == len(frames):
                print(f"  {index}/{len(frames)} frames", flush=True)
        elapsed, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    if tally.count == 0:
        parser.exit(2, f"No frame of {arguments.source} could be processed.\n")

    print(f"\n{tally.count} frames of {tally.frame_size} in {elapsed:.2f} s: "
          f"{tally.count / elapsed:.1f} FPS "
          f"({'worker thread' if arguments.worker else 'process_frame'}, "
          f"flip averaging {'off' if arguments.no_flip else 'on'}).")
    # CPU time counts only this process, so it varies less than wall time on a busy machine.
    print(f"CPU time {cpu_seconds / max(tally.count, 1) * 1000:.2f} ms per frame "
          f"(wall time {elapsed / max(tally.count, 1) * 1000:.2f} ms).")
    print(f"{'stage':<14}{'median ms':>10}{'p95 ms':>10}")
    for stage in STAGES:
        values = np.array(tally.timings[stage])
        print(f"{stage:<14}{np.median(values):>10.2f}{np.percentile(values, 95):>10.2f}")
    print(f"Garment found in {tally.found}/{tally.count} frames. Shown answers: "
          + ", ".join(f"{text} {count}" for text, count in
                      sorted(tally.answers.items(), key=lambda item: -item[1])))
    return 0


def compare_taught(arguments) -> int:
    """Per-frame cost of process_frame without taught examples and with each number of them."""
    try:
        predictor = load_predictor(arguments.model)
    except ModelLoadError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if predictor.embedding_size is None:
        print(f"error: {predictor.path} gives no embedding, so nothing can be taught; export "
              "it again with `python -m model.export MODEL.keras --out MODEL.tflite`.",
              file=sys.stderr)
        return 2
    random = np.random.default_rng(0)
    cases = {"off": None}
    for count in arguments.taught:
        cases[str(count)] = TaughtExamples.from_embeddings(
            random.random((count, predictor.embedding_size)),
            random.integers(0, NUM_CLASSES, count))
    settings = FrameSettings(flip_averaging=not arguments.no_flip)
    try:
        frames = read_frames(arguments.source, arguments.frames)
    except SourceError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"Read {len(frames)} frames of {arguments.source} at 640x480; flip averaging "
          f"{'off' if arguments.no_flip else 'on'}; taking turns frame by frame.")
    answers = {case: SteadyAnswer() for case in cases}
    timings = {case: {"inference": [], "total": []} for case in cases}
    for index, frame in enumerate(frames[:arguments.warm_up] + frames):
        for case, taught in cases.items():
            result = process_frame(frame, predictor, settings, answers[case], taught)
            answers[case] = result.answer
            if index >= arguments.warm_up and result.segmentation.found:
                for stage in timings[case]:
                    timings[case][stage].append(result.timings[stage])
        if (index + 1 - arguments.warm_up) % 100 == 0:
            print(f"  {index + 1 - arguments.warm_up}/{len(frames)} frames", flush=True)
    print("Frames with a garment (where the model runs); milliseconds:")
    # The inference stage holds the model's invoke and the taught rule; the total adds
    # segmentation and overlay, whose noise on a busy machine can hide a small difference.
    first = str(arguments.taught[0])
    print(f"{'taught':<8}{'frames':>7}{'total median':>14}{'p95':>8}{'inference median':>18}"
          f"{'total vs ' + first:>16}{'inference vs ' + first:>20}")
    medians = {case: {stage: float(np.median(values)) for stage, values in stages.items()}
               for case, stages in timings.items()}
    for case, stages in timings.items():
        versus = "" if case == "off" else (
            f"{medians[case]['total'] - medians[first]['total']:>+16.3f}"
            f"{medians[case]['inference'] - medians[first]['inference']:>+20.3f}")
        print(f"{case:<8}{len(stages['total']):>7}{medians[case]['total']:>14.3f}"
              f"{np.percentile(stages['total'], 95):>8.3f}{medians[case]['inference']:>18.3f}"
              f"{versus}")
    return 0


if __name__ == "__main__":
    from segmentation.command import run_command

    raise SystemExit(run_command(main))

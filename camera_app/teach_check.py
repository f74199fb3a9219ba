"""The same-garment goal of teaching, measured on the demo clip as the app plays it.

    python -m camera_app.teach_check --model /tmp/teach-model/fashion_cnn.tflite
    python -m camera_app.teach_check --model M.tflite --thresholds 0.85 0.875 0.9

The clip is played through process_frame (flip averaging on, as the app runs), its steady
answer carried from frame to frame. For each garment scene in turn, starting from no taught
example: the first --teach-frames frames of the scene are taught, one per frame as a user
pressing a key would (the frame is processed, then its embedding is added with
TaughtExamples.with_example), with a class other than the model's own answer (the class the
model finds least likely over those frames). Printed per scene and threshold: the share of
the scene's remaining frames whose steady answer shows the taught class (goal: at least 90%);
for the other garment scenes' frames, the share that a taught example decided (goal: 0%) and
the share whose steady answer is the same as without teaching (it may differ for a few frames
after a taught scene, while the smoothed answer leaves the taught class).

The scenes are those of camera_app.make_demo: each photo of the material folder in name
order, with an empty wall after every --empty-every-th, --seconds-per-scene long each.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from camera_app.answer import SteadyAnswer
from camera_app.frame import FrameSettings, process_frame
from camera_app.make_demo import (
    EMPTY_EVERY,
    FRAMES_PER_SECOND,
    SECONDS_PER_SCENE,
    WALL,
    demo_layout,
)
from camera_app.sources import SourceError, open_source
from model.classes import CLASS_NAMES
from model.paths import DEMO_MATERIAL_DIR, DEMO_VIDEO
from model.predictor import ModelLoadError, load_predictor
from segmentation.images import list_images
from model.taught import TaughtExamples

GOAL_TAUGHT = 0.9  # Share of a taught scene's remaining frames that must show the taught class.


@dataclass(frozen=True)
class Scene:
    # The photo's name (without suffix), or "wall" for an empty scene.
    name: str
    # Frame indices [first, end) of the scene in the clip.
    first: int
    end: int

    @property
    def garment(self) -> bool:
        return self.name != WALL


def demo_scenes(material: Path, seconds_per_scene: float, empty_every: int) -> list[Scene]:
    """The clip's scenes, in order, as camera_app.make_demo lays them out."""
    length = max(1, round(seconds_per_scene * FRAMES_PER_SECOND))
    names = [name for name, _ in demo_layout(list_images(material), empty_every)]
    return [Scene(name, index * length, (index + 1) * length) for index, name in enumerate(names)]


def play(frames, predictor, settings: FrameSettings, taught: TaughtExamples,
         teach_at: dict | None = None):
    """Per frame: the steady answer (class index, or its text), the model's probabilities
    (None without a garment) and whether a taught example decided, playing the frames in
    order; teach_at maps a frame index to the class its embedding is taught as, right after
    that frame is processed."""
    answer, shown, decided, probabilities = SteadyAnswer(), [], [], []
    for index, frame in enumerate(frames):
        result = process_frame(frame, predictor, settings, answer, taught)
        answer = result.answer
        shown.append(answer.class_index if answer.class_index is not None else answer.text)
        decided.append(result.taught)
        probabilities.append(result.probabilities)
        if teach_at and index in teach_at and result.embedding is not None:
            taught = taught.with_example(result.embedding, teach_at[index])
    return shown, probabilities, decided


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m camera_app.teach_check", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="a .tflite with an embedding output "
                                        "(default: the shipped model)")
    parser.add_argument("--source", default=str(DEMO_VIDEO), help="the demo clip")
    parser.add_argument("--material", type=Path, default=DEMO_MATERIAL_DIR,
                        help="the photos the clip was made from (for its scenes)")
    parser.add_argument("--seconds-per-scene", type=float, default=SECONDS_PER_SCENE,
                        help=f"as given to camera_app.make_demo (default: {SECONDS_PER_SCENE:g})")
    parser.add_argument("--empty-every", type=int, default=EMPTY_EVERY,
                        help=f"as given to camera_app.make_demo (default: {EMPTY_EVERY})")
    parser.add_argument("--teach-frames", type=int, default=10,
                        help="frames taught at the start of each scene (default: 10)")
    parser.add_argument("--thresholds", type=float, nargs="+", default=None,
                        help="cosine similarities to try (default: the rule's THRESHOLD)")
    arguments = parser.parse_args(argv)

    try:
        predictor = load_predictor(arguments.model)
        if predictor.embedding_size is None:
            raise ModelLoadError(f"{predictor.path} gives no embedding; export it again with "
                                 "`python -m model.export MODEL.keras --out MODEL.tflite`.")
        source = open_source(arguments.source, loop=False)
    except (ModelLoadError, SourceError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    frames = []
    while (frame := source.read()) is not None:
        frames.append(frame)
    source.release()
    scenes = demo_scenes(arguments.material, arguments.seconds_per_scene, arguments.empty_every)
    if not scenes or scenes[-1].end != len(frames):
        print(f"error: {arguments.source} has {len(frames)} frames, but the material gives "
              f"{len(scenes)} scenes of {arguments.seconds_per_scene} s "
              f"({scenes[-1].end if scenes else 0} frames); pass the --seconds-per-scene and "
              "--empty-every the clip was made with.", file=sys.stderr)
        return 2
    settings = FrameSettings()
    empty = TaughtExamples.empty(predictor.embedding_size)
    baseline, probabilities, _ = play(frames, predictor, settings, empty)
    thresholds = arguments.thresholds or [empty.threshold]
    garments = [scene for scene in scenes if scene.garment]

    def name(answer):
        return CLASS_NAMES[answer] if isinstance(answer, (int, np.integer)) else answer

    print(f"{len(frames)} frames, {len(garments)} garment scenes; teaching the first "
          f"{arguments.teach_frames} frames of each, one scene at a time (flip averaging on)")
    print(f"{'threshold':>9} {'scene':<14} {'model says':<12} {'taught as':<12} "
          f"{'taught shown':>12} {'others taught':>13} {'others same':>11}")
    for threshold in thresholds:
        met = 0
        for scene in garments:
            taught_frames = range(scene.first, min(scene.first + arguments.teach_frames,
                                                   scene.end))
            found = [probabilities[index] for index in taught_frames
                     if probabilities[index] is not None]
            if not found:
                print(f"{threshold:9.3f} {scene.name:<14} no garment found in the taught frames")
                continue
            taught_class = int(np.argmin(np.mean(found, axis=0)))
            own = max(set(baseline[scene.first:scene.end]),
                      key=baseline[scene.first:scene.end].count)
            shown, _, decided = play(frames, predictor, settings, replace(empty, threshold=threshold),
                               {index: taught_class for index in taught_frames})
            rest = range(taught_frames.stop, scene.end)
            share = np.mean([shown[index] == taught_class for index in rest])
            others = [index for other in garments if other is not scene
                      for index in range(other.first, other.end)]
            wrongly = np.mean([decided[index] for index in others])
            kept = np.mean([shown[index] == baseline[index] for index in others])
            met += share >= GOAL_TAUGHT and wrongly == 0
            print(f"{threshold:9.3f} {scene.name:<14} {name(own):<12} "
                  f"{CLASS_NAMES[taught_class]:<12} {share:12.1%} {wrongly:13.1%} "
                  f"{kept:11.1%}", flush=True)
        print(f"{threshold:9.3f} goal met (taught shown >= {GOAL_TAUGHT:.0%}, no other "
              f"garment decided by it) in {met} of {len(garments)} scenes")
    return 0


if __name__ == "__main__":
    from segmentation.command import run_command

    raise SystemExit(run_command(main))

"""The goals of teaching, measured on the demo clip as the app plays it: same garment,
"nothing", and an export/import round trip.

    python -m camera_app.teach_check                              # all three, shipped model
    python -m camera_app.teach_check --model M.tflite --thresholds 0.85 0.875 0.9 --checks same
    python -m camera_app.teach_check --checks nothing --nothing-scenes 4-sandals

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

Nothing (--checks nothing): the first --teach-frames frames of each scene named in
--nothing-scenes (default: every empty wall) are taught as "nothing" (model.taught.NOTHING),
one per frame, all in one playing of the clip; only frames where the segmentation found an
object give an example (the others already show "no garment"). Printed: per nothing scene,
the share of its remaining frames that show "no garment" (goal: at least 90%); per other
garment scene, the share of its frames that show "no garment" with these examples but not without
(goal: at most 2%).

Round trip (--checks round-trip): the same nothing frames and, for every garment scene, its
first --teach-frames frames (as the same-garment check teaches them) are saved with
save_example in a temporary taught folder; the clip is played with the folder loaded; then
the folder is exported to a .zip, forgotten and imported again (model.taught), loaded and
played again. Printed: the frames whose shown answer differs (goal: none).

The scenes are those of camera_app.make_demo: each photo of the material folder in name
order, with an empty wall after every --empty-every-th, --seconds-per-scene long each.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from camera_app.answer import NO_GARMENT, SteadyAnswer
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
from model.taught import (
    NOTHING,
    TaughtExamples,
    export_zip,
    forget_all,
    import_examples,
    load_taught,
    save_example,
)

GOAL_TAUGHT = 0.9  # Share of a taught scene's remaining frames that must show the taught class.
GOAL_NOTHING = 0.9  # Share of a nothing scene's remaining frames that must show "no garment".
GOAL_LOST = 0.02  # Most of another scene's frames that may be lost to "no garment".
CHECKS = ("same", "nothing", "round-trip")  # What --checks may name.


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


def teach_range(scene: Scene, teach_frames: int) -> range:
    """The frame indices taught at the start of a scene."""
    return range(scene.first, min(scene.first + teach_frames, scene.end))


def least_likely(probabilities, scene: Scene, teach_frames: int) -> int | None:
    """The class the model finds least likely over a scene's taught frames (None when no
    garment was found in them): what the same-garment check teaches them as."""
    found = [probabilities[index] for index in teach_range(scene, teach_frames)
             if probabilities[index] is not None]
    return int(np.argmin(np.mean(found, axis=0))) if found else None


def same_garment(frames, scenes, predictor, settings, baseline, probabilities,
                 teach_frames: int, thresholds):
    """Prints the same-garment table (see the module docstring)."""
    empty = TaughtExamples.empty(predictor.embedding_size)
    garments = [scene for scene in scenes if scene.garment]

    def name(answer):
        return CLASS_NAMES[answer] if isinstance(answer, (int, np.integer)) else answer

    print(f"Same garment: teaching the first {teach_frames} frames of each garment scene, "
          "one scene at a time")
    print(f"{'threshold':>9} {'scene':<14} {'model says':<12} {'taught as':<12} "
          f"{'taught shown':>12} {'others taught':>13} {'others same':>11}")
    for threshold in thresholds:
        met = 0
        for scene in garments:
            taught_frames = teach_range(scene, teach_frames)
            taught_class = least_likely(probabilities, scene, teach_frames)
            if taught_class is None:
                print(f"{threshold:9.3f} {scene.name:<14} no garment found in the taught frames")
                continue
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


def nothing_goal(frames, scenes, predictor, settings, baseline, probabilities,
                 nothing_at: dict, nothing_scenes, teach_frames: int) -> bool:
    """Prints the "nothing" goal (see the module docstring); returns whether it is met.
    baseline and probabilities: play's answers and probabilities without teaching."""
    empty = TaughtExamples.empty(predictor.embedding_size)
    shown = play(frames, predictor, settings, empty, nothing_at)[0]
    examples = sum(probabilities[index] is not None for index in nothing_at)
    print(f"Nothing: {len(nothing_at)} frames of the scenes {', '.join(nothing_scenes)} "
          f"taught as \"nothing\"; {examples} of them hold an object and give an example")
    met = True
    print(f"{'scene':<14} {'frames':>6} {'no garment (taught)':>20} "
          f"{'without teaching':>17} {'lost to no garment':>19}")
    for scene in scenes:
        if scene.name in nothing_scenes:
            rest = range(min(scene.first + teach_frames, scene.end), scene.end)
            share = np.mean([shown[index] == NO_GARMENT for index in rest])
            before = np.mean([baseline[index] == NO_GARMENT for index in rest])
            met &= bool(share >= GOAL_NOTHING)
            print(f"{scene.name:<14} {len(rest):>6} {share:20.1%} {before:17.1%} {'':>19}")
        elif scene.garment:  # An empty wall not taught is no garment scene: it loses nothing.
            frames_of = range(scene.first, scene.end)
            lost = np.mean([shown[index] == NO_GARMENT and baseline[index] != NO_GARMENT
                            for index in frames_of])
            met &= bool(lost <= GOAL_LOST)
            print(f"{scene.name:<14} {len(frames_of):>6} {'':>20} {'':>17} {lost:19.1%}")
    print(f"goal {'met' if met else 'NOT met'} (nothing scenes >= {GOAL_NOTHING:.0%} "
          f"\"no garment\", other scenes lose <= {GOAL_LOST:.0%})")
    return met


def round_trip(frames, predictor, settings, teach_at: dict) -> bool:
    """Prints the export, forget, import round trip (see the module docstring); returns
    whether the answers are the same."""
    with tempfile.TemporaryDirectory() as scratch:
        folder, archive = Path(scratch) / "taught", Path(scratch) / "taught.zip"
        for index, class_index in sorted(teach_at.items()):
            result = process_frame(frames[index], predictor, settings, SteadyAnswer(),
                                   TaughtExamples.empty(predictor.embedding_size))
            if result.embedding is not None:
                save_example(folder, class_index, result.segmentation.model_input,
                             result.segmentation.crop, result.embedding, predictor,
                             settings.flip_averaging)
        before = load_taught(folder, predictor, settings.segmentation,
                             settings.flip_averaging)
        shown_before = play(frames, predictor, settings, before)[0]
        exported = export_zip(folder, archive)
        forgotten = forget_all(folder)
        report = import_examples(archive, folder, predictor, settings.flip_averaging)
        after = load_taught(folder, predictor, settings.segmentation, settings.flip_averaging)
        shown_after = play(frames, predictor, settings, after)[0]
    differ = sum(first != second for first, second in zip(shown_before, shown_after))
    print(f"Round trip: {len(before)} examples ({before.nothing_count()} nothing) saved, "
          f"{exported} files exported, {forgotten} forgotten, {report.imported} examples "
          f"imported ({report.embedded_again} embedded again, {len(report.refused)} files "
          f"refused), {len(after)} loaded; frames whose answer differs: {differ} of "
          f"{len(frames)} (goal: 0)")
    return differ == 0


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
    parser.add_argument("--checks", nargs="+", choices=CHECKS, default=list(CHECKS),
                        help="which goals to measure (default: all)")
    parser.add_argument("--nothing-scenes", nargs="+", default=[WALL],
                        help=f"scenes taught as \"nothing\" (default: {WALL}, every empty "
                             "wall; a garment scene's name, e.g. 4-sandals, stands for an "
                             "object that is not a garment)")
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
    print(f"{len(frames)} frames, {sum(scene.garment for scene in scenes)} garment scenes "
          "(flip averaging on)")
    if "same" in arguments.checks:
        same_garment(frames, scenes, predictor, settings, baseline, probabilities,
                     arguments.teach_frames, arguments.thresholds or [empty.threshold])
    nothing_at = {index: NOTHING for scene in scenes if scene.name in arguments.nothing_scenes
                  for index in range(scene.first, min(scene.first + arguments.teach_frames,
                                                      scene.end))}
    if "nothing" in arguments.checks:
        nothing_goal(frames, scenes, predictor, settings, baseline, probabilities, nothing_at,
                     arguments.nothing_scenes, arguments.teach_frames)
    if "round-trip" in arguments.checks:
        garment_at = {index: least_likely(probabilities, scene, arguments.teach_frames)
                      for scene in scenes if scene.garment
                      for index in teach_range(scene, arguments.teach_frames)}
        round_trip(frames, predictor, settings,
                   {**{index: taught for index, taught in garment_at.items()
                       if taught is not None}, **nothing_at})
    return 0


if __name__ == "__main__":
    from segmentation.command import run_command

    raise SystemExit(run_command(main))

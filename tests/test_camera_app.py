"""Tests of the app's Qt-free parts: sources, the per-frame function, the steady answer,
snapshots, the demo clip and its generator. No webcam and no display are needed."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import cv2
import numpy as np
import pytest

from camera_app import make_demo
from camera_app.answer import (NO_GARMENT, NO_MODEL, NOT_SURE, SteadyAnswer,
                               carried_over, update_answer)
from camera_app.frame import FrameSettings, process_frame, save_snapshot
from camera_app.sources import (FolderSource, SourceError, VideoSource,
                                open_source)
from model.classes import CLASS_NAMES
from model.paths import DEMO_VIDEO, SHIPPED_TFLITE_MODEL
from synthetic_images import write_video

REPOSITORY = Path(__file__).resolve().parent.parent


class FixedPredictor:
    """Answers the same probabilities for every image (no model file needed)."""

    def __init__(self, probabilities):
        self.probabilities = np.asarray(probabilities, np.float32)
        self.calls = 0

    def predict(self, images):
        self.calls += 1
        return np.repeat(self.probabilities[np.newaxis], len(images), axis=0)


def one_hot_ish(class_index, probability):
    probabilities = np.full(10, (1 - probability) / 9, np.float32)
    probabilities[class_index] = probability
    return probabilities


def garment_frame(random=None, noise=0.0):
    """640x480: a dark blue garment-like shape on a light grey wall, optionally with noise."""
    frame = np.full((480, 640, 3), 205, np.uint8)
    cv2.rectangle(frame, (250, 120), (390, 400), (120, 40, 30), -1)
    cv2.rectangle(frame, (200, 120), (440, 200), (120, 40, 30), -1)
    if random is not None:
        frame = np.clip(frame + random.normal(0, noise, frame.shape), 0, 255).astype(np.uint8)
    return frame


# ----- The per-frame function -----

@pytest.mark.parametrize("frame", [
    np.zeros((480, 640, 3), np.uint8),
    np.zeros((0, 0, 3), np.uint8),
    np.zeros((480, 640), np.uint8),
    np.full((1, 1, 3), 255, np.uint8),
    None,
], ids=["black", "empty", "grey", "one-pixel", "none"])
def test_process_frame_takes_bad_frames_without_raising(frame):
    predictor = FixedPredictor(one_hot_ish(3, 0.9))
    result = process_frame(frame, predictor, FrameSettings(), SteadyAnswer())
    assert not result.segmentation.found
    assert result.answer.text == NO_GARMENT
    assert result.probabilities is None
    assert predictor.calls == 0
    assert result.frame.ndim == 3 and result.frame.dtype == np.uint8
    assert set(result.timings) == {"segmentation", "inference", "overlay", "total"}


def test_process_frame_names_a_found_garment_and_draws_on_a_copy():
    frame = garment_frame()
    original = frame.copy()
    predictor = FixedPredictor(one_hot_ish(4, 0.9))
    result = process_frame(frame, predictor, FrameSettings(), SteadyAnswer())
    assert result.segmentation.found
    assert result.answer.text == CLASS_NAMES[4]
    assert result.answer.confidence == pytest.approx(0.9, abs=1e-5)
    assert predictor.calls == 1  # Flip averaging sends both images in one batch.
    assert np.array_equal(frame, original)
    assert not np.array_equal(result.frame, original)  # The overlay was drawn.
    assert result.segmentation.model_input.shape == (28, 28)


def test_mirror_flips_the_frame():
    frame = garment_frame()
    frame[:, :100] = 0  # Mark the left edge.
    predictor = FixedPredictor(one_hot_ish(4, 0.9))
    plain = process_frame(frame, predictor, FrameSettings(mirror=False), SteadyAnswer())
    mirrored = process_frame(frame, predictor, FrameSettings(mirror=True), SteadyAnswer())
    assert plain.frame[240, 50].max() == 0
    assert mirrored.frame[240, 590].max() == 0 and mirrored.frame[240, 50].max() > 100


def test_without_a_model_frames_are_still_segmented():
    result = process_frame(garment_frame(), None, FrameSettings(), SteadyAnswer())
    assert result.segmentation.found
    assert result.answer.text == NO_MODEL


# ----- The steady answer -----

def test_near_tie_between_two_classes_does_not_flicker():
    settings = FrameSettings()
    answer = SteadyAnswer()
    shirt, top = CLASS_NAMES.index("Shirt"), CLASS_NAMES.index("T-shirt/top")
    texts = []
    for frame in range(60):
        probabilities = np.zeros(10, np.float32)
        leader, runner_up = (shirt, top) if frame % 2 else (top, shirt)
        probabilities[leader], probabilities[runner_up] = 0.62, 0.38
        answer = update_answer(answer, probabilities, settings)
        texts.append(answer.text)
    # Each frame alone would alternate; the shown label must stay put after settling.
    assert len(set(texts[5:])) == 1


def test_a_new_garment_does_take_over():
    settings = FrameSettings()
    answer = SteadyAnswer()
    for _ in range(10):
        answer = update_answer(answer, one_hot_ish(1, 0.95), settings)
    assert answer.text == "Trouser"
    texts = []
    for _ in range(15):
        answer = update_answer(answer, one_hot_ish(7, 0.95), settings)
        texts.append(answer.text)
    assert texts[-1] == "Sneaker"
    assert texts[0] != "Sneaker"  # Smoothing: one frame is not enough to switch.


def test_low_confidence_says_not_sure_and_absence_says_no_garment():
    settings = FrameSettings(answer_threshold=0.5)
    answer = SteadyAnswer()
    for _ in range(10):  # Trouser 0.35; no group reaches 0.5 either.
        answer = update_answer(answer, one_hot_ish(1, 0.35), settings)
    assert answer.text == NOT_SURE and answer.classes == () and answer.confidence == 0
    for _ in range(10):
        answer = update_answer(answer, one_hot_ish(1, 0.9), settings)
    assert answer.text == "Trouser"
    answer = update_answer(answer, None, settings)
    assert answer.text == "Trouser"  # One missed frame keeps the answer.
    for _ in range(settings.frames_before_no_garment):
        answer = update_answer(answer, None, settings)
    assert answer.text == NO_GARMENT and answer.probabilities is None


def footwear(sneaker: float) -> np.ndarray:
    """Probabilities of a shoe: Sneaker as given, the rest of 0.98 split over Sandal and Ankle
    boot, 0.02 on Bag."""
    probabilities = np.zeros(10, np.float32)
    probabilities[[5, 7, 9, 8]] = [(0.98 - sneaker) / 2, sneaker, (0.98 - sneaker) / 2, 0.02]
    return probabilities


def test_a_class_hovering_at_the_threshold_does_not_alternate_with_its_group():
    settings = FrameSettings(answer_threshold=0.5, smoothing=1.0)  # Hysteresis alone.
    answer = SteadyAnswer()
    texts = []
    for frame in range(20):
        answer = update_answer(answer, footwear(0.52 if frame % 2 else 0.46), settings)
        texts.append(answer.text)
    # Frame by frame the rule would say Footwear, Sneaker, Footwear, ...
    assert texts[0] == "Footwear" and set(texts[1:]) == {"Sneaker"}, texts
    assert answer.classes == (7,) and answer.confidence == pytest.approx(0.52)
    answer = update_answer(answer, footwear(0.3), settings)  # Clearly below: the group.
    assert answer.text == "Footwear" and answer.classes == (5, 7, 9)
    assert answer.class_index is None and answer.confidence == pytest.approx(0.98)
    answer = update_answer(answer, footwear(0.45), settings)  # The group holds...
    assert answer.text == "Footwear"
    answer = update_answer(answer, footwear(0.7), settings)  # ...until a class is sure.
    assert answer.text == "Sneaker"


class CoinFlipPredictor:
    """A fixed fake model torn between two classes: Shirt or T-shirt/top at 0.54 / 0.46 (closer than FrameSettings.switch_margin), the
    leader set by the parity of the input's pixel sum, so noise in a frame decides it."""

    def __init__(self):
        self.leaders = []

    def predict(self, images):
        probabilities = np.zeros((len(images), 10), np.float32)
        shirt, top = CLASS_NAMES.index("Shirt"), CLASS_NAMES.index("T-shirt/top")
        for row, image in zip(probabilities, images):
            leader, runner_up = (shirt, top) if int(image.sum()) % 2 else (top, shirt)
            row[leader], row[runner_up] = 0.54, 0.46
            self.leaders.append(leader)
        return probabilities


def answers_to_a_steady_noisy_scene(predictor, frames=40) -> list[str]:
    """The label shown for each of a run of noisy frames of one garment."""
    random = np.random.default_rng(0)
    answer = SteadyAnswer()
    texts = []
    for _ in range(frames):
        result = process_frame(garment_frame(random, noise=8.0), predictor, FrameSettings(), answer)
        answer = result.answer
        texts.append(answer.text)
    return texts


def test_steady_noisy_scene_does_not_flicker():
    predictor = CoinFlipPredictor()
    texts = answers_to_a_steady_noisy_scene(predictor)
    assert len(set(predictor.leaders)) == 2  # Frame by frame, the leader does change...
    assert len(set(texts[10:])) == 1, texts  # ...but the shown label stays put.


@pytest.mark.shipped_model
@pytest.mark.skipif(not SHIPPED_TFLITE_MODEL.is_file(), reason="the shipped model is missing")
def test_steady_noisy_scene_does_not_flicker_with_the_shipped_model():
    from model.predictor import load_predictor

    texts = answers_to_a_steady_noisy_scene(load_predictor())
    assert len(set(texts[10:])) == 1, texts


# ----- Snapshots -----

def test_snapshot_writes_frame_mask_input_and_prediction(tmp_path):
    predictor = FixedPredictor(one_hot_ish(8, 0.8))
    result = process_frame(garment_frame(), predictor, FrameSettings(), SteadyAnswer())
    paths = save_snapshot(result, tmp_path / "shots")
    assert len(paths) == 4 and all(path.is_file() for path in paths)
    suffixes = sorted(path.name.rsplit("-", 1)[1] for path in paths)
    assert suffixes == ["frame.png", "input28.png", "mask.png", "prediction.json"]
    frame = cv2.imread(str(next(p for p in paths if p.name.endswith("frame.png"))))
    assert frame.shape == (480, 640, 3)
    model_input = cv2.imread(str(next(p for p in paths if p.name.endswith("input28.png"))),
                             cv2.IMREAD_GRAYSCALE)
    assert np.array_equal(model_input, result.segmentation.model_input)
    prediction = json.loads(next(p for p in paths if p.suffix == ".json").read_text())
    assert prediction["label"] == "Bag" and prediction["garment_found"] is True
    assert prediction["probabilities"]["Bag"] == pytest.approx(0.8, abs=1e-4)


# ----- Sources -----

def test_video_source_reads_all_frames_then_ends(tmp_path):
    path = tmp_path / "clip.avi"
    write_video(path, [np.full((120, 160, 3), value, np.uint8) for value in (10, 100, 200)])
    source = VideoSource(path)
    frames = [source.read() for _ in range(3)]
    assert [int(np.median(frame)) for frame in frames] == pytest.approx([10, 100, 200], abs=4)
    assert source.read() is None
    source.release()


def test_looping_video_source_starts_again(tmp_path):
    path = tmp_path / "clip.avi"
    write_video(path, [np.full((120, 160, 3), value, np.uint8) for value in (10, 200)])
    source = VideoSource(path, loop=True)
    values = [int(np.median(source.read())) for _ in range(5)]
    assert values == pytest.approx([10, 200, 10, 200, 10], abs=4)


def test_folder_source_skips_unreadable_images(tmp_path):
    cv2.imwrite(str(tmp_path / "a.png"), np.full((50, 60, 3), 30, np.uint8))
    (tmp_path / "b.jpg").write_bytes(b"not an image")
    cv2.imwrite(str(tmp_path / "c.png"), np.full((50, 60, 3), 220, np.uint8))
    source = FolderSource(tmp_path, loop=False)
    values = [int(source.read()[0, 0, 0]), int(source.read()[0, 0, 0])]
    assert values == [30, 220]
    assert source.read() is None
    assert [path.name for path in source.skipped] == ["b.jpg"]


@pytest.mark.parametrize("spec", ["99", "no/such/clip.mp4", "no/such/photo.jpg"])
def test_sources_that_cannot_be_opened_raise_source_error(spec):
    with pytest.raises(SourceError):
        open_source(spec)


def test_a_file_that_is_not_a_video_raises_source_error(tmp_path):
    path = tmp_path / "notes.mp4"
    path.write_text("this is not a video")
    with pytest.raises(SourceError):
        source = open_source(str(path))
        source.read()


def test_empty_folder_raises_source_error(tmp_path):
    with pytest.raises(SourceError, match="no images"):
        open_source(str(tmp_path))


def test_sources_tell_when_a_new_scene_starts(tmp_path):
    path = tmp_path / "clip.avi"
    write_video(path, [np.full((120, 160, 3), value, np.uint8) for value in (10, 100, 200)])
    video = VideoSource(path, loop=True)
    scenes = []
    for _ in range(7):
        video.read()
        scenes.append(video.new_scene)
    assert scenes == [True, False, False, True, False, False, True]  # Start, then each jump back.
    for name in ("a.png", "b.png"):
        cv2.imwrite(str(tmp_path / name), np.full((50, 60, 3), 90, np.uint8))
    folder = FolderSource(tmp_path)
    for _ in range(3):
        folder.read()
        assert folder.new_scene  # Every image of a slideshow is a new scene.


def test_a_new_scene_starts_the_answer_afresh():
    settings = FrameSettings()
    answer = update_answer(SteadyAnswer(), one_hot_ish(1, 0.93), settings)
    assert carried_over(answer, new_scene=False) is answer
    fresh = update_answer(carried_over(answer, new_scene=True), one_hot_ish(3, 0.85), settings)
    assert fresh.text == CLASS_NAMES[3] and fresh.confidence == pytest.approx(0.85)


def test_a_slideshow_names_each_image_with_its_answer_alone(qtbot, tmp_path):
    """A trouser photo after a dress photo is named Trouser 93%, not a mix of the two."""
    from camera_app.worker import FrameWorker

    for name in ("1-dress.png", "2-trousers.png"):
        cv2.imwrite(str(tmp_path / name), garment_frame())

    class OnePerImage:  # The model's answer for each image in turn (flip TTA: one call each).
        answers = [one_hot_ish(3, 0.95), one_hot_ish(1, 0.93)]

        def predict(self, images):
            return np.repeat(self.answers.pop(0)[np.newaxis], len(images), axis=0)

    source = FolderSource(tmp_path, seconds_per_image=0.2, loop=False)
    worker = FrameWorker(source, OnePerImage(), FrameSettings())
    shown = []
    worker.result_ready.connect(
        lambda result: (shown.append(result.answer), worker.result_shown()))
    with qtbot.waitSignal(worker.source_ended, timeout=10000):
        worker.start()
    worker.stop()
    assert [(answer.text, round(answer.confidence, 2)) for answer in shown] == \
        [("Dress", 0.95), ("Trouser", 0.93)]


def test_a_slideshow_names_what_it_left_out(tmp_path):
    cv2.imwrite(str(tmp_path / "a.png"), np.full((50, 60, 3), 30, np.uint8))
    (tmp_path / "text.png").write_bytes(b"not an image")
    source = FolderSource(tmp_path, loop=False)
    assert source.warning is None
    source.read()
    assert source.read() is None
    assert source.warning == (f"Left out of the slideshow of {tmp_path.name} (1 of 2 images): "
                              f"{tmp_path / 'text.png'} is not a readable image (corrupt or "
                              "unsupported format).")


def test_one_unreadable_image_is_refused_when_opened_with_its_reason(tmp_path):
    (tmp_path / "text.png").write_text("not an image")
    with pytest.raises(SourceError) as error_info:
        open_source(str(tmp_path / "text.png"))
    assert str(error_info.value) == (f"{tmp_path / 'text.png'} is not a readable image (corrupt "
                                     "or unsupported format). Choose another image or a folder.")


def test_the_demo_plays_once_when_asked_not_to_loop():
    source = open_source("demo", loop=False)
    frames = 0
    while source.read() is not None and frames < 5000:
        frames += 1
    source.release()
    assert 100 < frames < 5000


# ----- The benchmark and the soak -----

def test_benchmark_names_a_corrupt_source_or_model_without_a_traceback(tmp_path, capsys):
    from camera_app import benchmark

    bad_clip, bad_model = tmp_path / "bad.mp4", tmp_path / "bad.tflite"
    bad_clip.write_bytes(b"garbage" * 50)
    bad_model.write_bytes(b"x")
    for arguments, message in ((["--source", str(bad_clip)], "could not be opened as a video"),
                               (["--source", str(bad_clip), "--worker"], "could not be opened"),
                               (["--model", str(bad_model)], "is not a valid LiteRT model")):
        with pytest.raises(SystemExit) as exit_info:
            benchmark.main(["--frames", "5"] + arguments)
        assert exit_info.value.code == 2
        error = capsys.readouterr().err
        assert message in error and "Traceback" not in error


def test_soak_prints_memory_at_intervals(tmp_path, capsys):
    from camera_app.soak import soak

    clip = tmp_path / "clip.avi"
    write_video(clip, [garment_frame()] * 10)
    figures = soak(str(clip), 0.4, FixedPredictor(one_hot_ish(1, 0.9)), FrameSettings(),
                   interval=0.1, warm_up=1)
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].endswith("(baseline after warm-up)")
    reports = [line for line in lines[2:-1]
               if re.search(r"RSS +[\d.]+ MB \([+-][\d.]+ MB\)$", line)]
    assert reports and lines[-1].startswith(f"Soak done: {figures['frames']} frames in 0 s")
    assert figures["frames"] > 0 and 0 < figures["baseline"] <= figures["peak"]


# ----- The demo clip -----

def test_shipped_demo_clip_is_small_and_playable():
    assert DEMO_VIDEO.is_file(), "make it with python -m camera_app.make_demo"
    assert DEMO_VIDEO.stat().st_size < 5_000_000
    source = open_source("demo")
    frames = [source.read() for _ in range(5)]
    source.release()
    assert all(frame.shape == (480, 640, 3) for frame in frames)


def test_make_demo_says_what_is_wrong_with_its_material(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        make_demo.main(["--material", str(tmp_path / "missing")])
    assert stop.value.code == 2 and "is not a folder" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert make_demo.main(["--material", str(tmp_path / "empty"),
                           "--output", str(tmp_path / "demo.mp4")]) == 2
    assert "No readable photos" in capsys.readouterr().err
    assert not (tmp_path / "demo.mp4").exists()


def test_make_demo_writes_a_clip_from_photos(tmp_path):
    photos = []
    for index, colour in enumerate([(40, 40, 160), (160, 60, 40)]):
        photo = np.full((400, 300, 3), 215, np.uint8)
        cv2.rectangle(photo, (80, 80), (220, 330), colour, -1)
        photos.append(tmp_path / f"{index}.jpg")
        cv2.imwrite(str(photos[-1]), photo)
    (tmp_path / "broken.jpg").write_bytes(b"")
    output = tmp_path / "demo.mp4"
    count = make_demo.make_demo(photos + [tmp_path / "broken.jpg"], output,
                                seconds_per_scene=0.4, empty_every=2)
    assert count == 3 * round(0.4 * make_demo.FRAMES_PER_SECOND)  # Two garments and a wall.
    source = VideoSource(output)
    frames = []
    while (frame := source.read()) is not None:
        frames.append(frame)
    assert len(frames) == count and frames[0].shape == (480, 640, 3)


# ----- No TensorFlow in the app -----

def test_the_app_never_imports_tensorflow():
    code = (
        "import sys, numpy as np\n"
        "import camera_app.window, camera_app.__main__\n"
        "from camera_app.answer import SteadyAnswer\n"
        "from camera_app.frame import FrameSettings, process_frame\n"
        "from model.predictor import load_predictor, ModelLoadError\n"
        "try:\n"
        "    predictor = load_predictor()\n"
        "except ModelLoadError:\n"
        "    predictor = None\n"
        "frame = np.zeros((480, 640, 3), np.uint8)\n"
        "process_frame(frame, predictor, FrameSettings(), SteadyAnswer())\n"
        "print('tensorflow' in sys.modules, 'keras' in sys.modules)\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], cwd=REPOSITORY, capture_output=True,
                               text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.split() == ["False", "False"]



"""Teach mode: the per-frame function with taught examples, the window (keys 0-9, the "This
is..." menu, counts, forgetting, restarts) and --taught on the command lines.

A small fake predictor gives fixed probabilities (always T-shirt/top, 90%) and an embedding
made from the 28x28 input, so no test depends on the shipped model.
"""

import json
import os
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import cv2
import numpy as np
import pytest
from PyQt5.QtCore import QSettings, Qt
from PyQt5.QtWidgets import QMessageBox

from camera_app import window as window_module
from camera_app.answer import SteadyAnswer
from camera_app.frame import TAUGHT_MARK, FrameSettings, process_frame
from camera_app.teaching import open_taught, teach
from camera_app.window import MainWindow
from fakes import FakePredictor
from segmentation import __main__ as segmentation_command
from segmentation import evaluate
from segmentation import segment
from model.taught import TaughtExamples, save_example
from synthetic_images import TROUSER_OUTLINE, draw_garment, plain_background, polygon, \
    tshirt_photo

TSHIRT, COAT, TROUSER = 0, 4, 1


def tshirt_frame():
    return tshirt_photo(colour=(60, 40, 150))[0]


def trouser_frame():
    frame = plain_background(480, 640)
    draw_garment(frame, polygon(TROUSER_OUTLINE, 240, 90, 160, 320), (60, 40, 150))
    return frame


def test_fake_embeddings_tell_the_two_garments_apart():
    predictor = FakePredictor()
    inputs = np.stack([segment(tshirt_frame()).model_input, segment(trouser_frame()).model_input])
    embeddings = predictor.predict_with_embedding(inputs)[1]
    store = TaughtExamples.from_embeddings(embeddings[:1], [COAT])
    assert store.nearest(embeddings[1:])[0][0] < store.threshold


# ----- The per-frame function -----

def run_frames(frames, predictor, taught, settings=FrameSettings()):
    answer, results = SteadyAnswer(), []
    for frame in frames:
        results.append(process_frame(frame, predictor, settings, answer, taught))
        answer = results[-1].answer
    return results


@pytest.mark.parametrize("flip", [True, False])
def test_a_taught_garment_is_named_as_taught_with_one_inference_per_frame(flip):
    predictor = FakePredictor()
    settings = FrameSettings(flip_averaging=flip)
    first = run_frames([tshirt_frame()], predictor, TaughtExamples.empty(16), settings)[0]
    assert first.answer.text == "T-shirt/top" and not first.taught
    assert first.embedding.shape == (16,) and first.decision.class_index is None
    taught = TaughtExamples.empty(16).with_example(first.embedding, COAT)
    predictor.calls = 0
    results = run_frames([tshirt_frame()] * 6 + [trouser_frame()] * 8, predictor, taught,
                         settings)
    assert predictor.calls == 14  # One inference per frame, flip or not.
    assert all(result.taught for result in results[:6])
    assert results[5].answer.text == "Coat" and results[5].answer_is_taught
    assert not any(result.taught for result in results[6:])
    assert results[-1].answer.text == "T-shirt/top" and not results[-1].answer_is_taught


def test_without_taught_examples_the_frame_is_classified_as_before():
    predictor = FakePredictor(embedding=False)
    result = run_frames([tshirt_frame()], predictor, None)[0]
    assert result.answer.text == "T-shirt/top"
    assert result.embedding is None and result.decision is None and not result.taught


def test_teaching_is_off_with_a_model_without_embedding(tmp_path):
    taught, note = open_taught(tmp_path, FakePredictor(embedding=False), FrameSettings())
    assert taught is None and "no embedding" in note and "model.export" in note
    taught, note = open_taught(tmp_path, None, FrameSettings())
    assert taught is None and "no model" in note


def test_teaching_a_frame_without_a_garment_says_what_to_do(tmp_path):
    empty = run_frames([plain_background(480, 640)], FakePredictor(), TaughtExamples.empty(16))
    with pytest.raises(ValueError, match="No garment in view"):
        teach(tmp_path, TaughtExamples.empty(16), empty[0], COAT, FakePredictor(),
              FrameSettings())
    assert not any(tmp_path.iterdir())


# ----- The window -----

class EndlessCamera:
    """A camera that shows whatever garment the test puts in front of it."""

    name, frame_interval = "camera 7", 0.02

    def __init__(self):
        self.frame = tshirt_frame()

    def read(self):
        return self.frame

    def release(self):
        pass


@pytest.fixture
def camera(monkeypatch):
    """Camera 7 is an EndlessCamera; the model is a FakePredictor (with an embedding)."""
    camera = EndlessCamera()
    real_open_source = window_module.open_source
    monkeypatch.setattr(window_module, "open_source",
                        lambda spec, loop=True: camera if spec == "7"
                        else real_open_source(spec, loop))
    monkeypatch.setattr(window_module, "load_predictor", lambda path=None: FakePredictor())
    return camera


@pytest.fixture
def open_window(qtbot, tmp_path):
    def opener(taught_folder, **keywords):
        store = QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)
        window = MainWindow(source="7", settings_store=store, taught_folder=taught_folder,
                            **keywords)
        qtbot.addWidget(window)
        window.show()
        with qtbot.waitSignal(window.first_frame_shown, timeout=15000):
            pass
        # The taught examples load on their own thread; wait until a frame used them.
        qtbot.waitUntil(lambda: window.taught_loader is None and (
            window.taught is None or window.last_result.embedding is not None), timeout=15000)
        return window

    return opener


def shown_answer(window) -> str:
    return window.answer_label.text()


def test_teaching_by_key_press_changes_the_next_answers_for_that_garment(
        open_window, camera, qtbot, tmp_path):
    folder = tmp_path / "taught"
    window = open_window(folder)
    qtbot.waitUntil(lambda: shown_answer(window).startswith("T-shirt/top"), timeout=5000)
    assert window.class_labels[COAT].text() == "4 Coat"
    assert window.teach_button.isEnabled() and "Keys 0-9" in window.teach_status.text()
    qtbot.keyClick(window, Qt.Key_4)
    assert len(window.taught) == 1 and window.worker.taught is window.taught
    assert window.class_labels[COAT].text() == "4 Coat (1 taught)"
    assert "this is a Coat" in window.teach_status.text()
    assert len(list((folder / "4").glob("*.input.png"))) == 1
    assert len(list((folder / "4").glob("*.crop.jpg"))) == 1
    qtbot.waitUntil(lambda: shown_answer(window).startswith("Coat"), timeout=5000)
    assert TAUGHT_MARK in shown_answer(window)
    assert window.last_result.taught
    # Another garment keeps the model's answer.
    camera.frame = trouser_frame()
    qtbot.waitUntil(lambda: shown_answer(window).startswith("T-shirt/top"), timeout=5000)
    assert TAUGHT_MARK not in shown_answer(window)


def test_the_this_is_menu_teaches_like_the_keys(open_window, camera, qtbot, tmp_path):
    window = open_window(tmp_path / "taught")
    actions = window.teach_button.menu().actions()
    assert [action.text() for action in actions][:2] == ["0 T-shirt/top", "1 Trouser"]
    actions[TROUSER].trigger()
    assert window.taught.counts()[TROUSER] == 1
    qtbot.waitUntil(lambda: shown_answer(window).startswith("Trouser"), timeout=5000)


def test_examples_persist_across_a_restart_and_forgetting_removes_them(
        open_window, camera, qtbot, tmp_path, monkeypatch):
    folder = tmp_path / "taught"
    window = open_window(folder)
    qtbot.keyClick(window, Qt.Key_4)
    qtbot.keyClick(window, Qt.Key_4)
    window.close()

    restarted = open_window(folder)
    assert restarted.taught.counts()[COAT] == 2
    assert restarted.class_labels[COAT].text() == "4 Coat (2 taught)"
    qtbot.waitUntil(lambda: shown_answer(restarted).startswith("Coat"), timeout=5000)

    monkeypatch.setattr(QMessageBox, "question", lambda *arguments: QMessageBox.No)
    restarted.forget_button.click()
    assert len(restarted.taught) == 2  # Not confirmed: nothing forgotten.
    monkeypatch.setattr(QMessageBox, "question", lambda *arguments: QMessageBox.Yes)
    restarted.forget_button.click()
    assert len(restarted.taught) == 0 and restarted.worker.taught is restarted.taught
    assert restarted.class_labels[COAT].text() == "4 Coat"
    assert not (folder / "4").exists()
    assert "Forgot 2 taught example(s)" in restarted.teach_status.text()
    qtbot.waitUntil(lambda: shown_answer(restarted).startswith("T-shirt/top"), timeout=5000)
    restarted.close()
    assert len(open_window(folder).taught) == 0


def test_a_corrupt_or_foreign_file_in_the_taught_folder_is_skipped_with_a_message(
        open_window, camera, tmp_path):
    folder = tmp_path / "taught"
    save_example(folder, COAT, segment(tshirt_frame()).model_input)
    (folder / "4" / "broken.png").write_bytes(b"\x89PNG not really")
    (folder / "4" / "notes.txt").write_text("not an example")
    (folder / "coats").mkdir()
    window = open_window(folder)
    assert window.taught.counts()[COAT] == 1
    text = window.message.text()
    assert window.message.isVisible() and "Skipped 3 file(s)" in text
    assert "broken.png" in text and "notes.txt" in text and "coats" in text


def test_a_model_without_embedding_turns_teaching_off_and_keeps_naming(
        open_window, camera, qtbot, tmp_path, monkeypatch):
    monkeypatch.setattr(window_module, "load_predictor",
                        lambda path=None, output_size=28: FakePredictor(embedding=False))
    folder = tmp_path / "taught"
    window = open_window(folder)
    assert window.taught is None and not window.teach_button.isEnabled()
    assert "Teaching is off" in window.teach_status.text()
    assert not window.forget_button.isEnabled()
    qtbot.keyClick(window, Qt.Key_4)
    assert window.message.isVisible() and "Teaching is off" in window.message.text()
    assert not folder.exists()
    qtbot.waitUntil(lambda: shown_answer(window).startswith("T-shirt/top"), timeout=5000)


# ----- The command lines -----

@pytest.fixture
def taught_photos(tmp_path, monkeypatch):
    """A taught folder holding a T-shirt photo in 4/ (Coat), and the classifier used."""
    from model import classifier as classify

    folder = tmp_path / "taught"
    (folder / "4").mkdir(parents=True)
    cv2.imwrite(str(folder / "4" / "my-shirt.jpg"), tshirt_frame())
    (folder / "4" / "broken.jpg").write_bytes(b"\xff\xd8 not a jpeg")
    monkeypatch.setattr(classify, "load_classifier",
                        lambda path=None, output_size=28: FakePredictor())
    return folder


def classify_tshirt_and_trouser(folder: Path, taught: Path, capsys) -> tuple[int, dict, str]:
    """Writes a T-shirt and a trouser photo into folder and classifies them with the taught
    examples: (exit status, JSON record by file name, stderr)."""
    folder.mkdir()
    cv2.imwrite(str(folder / "a_tshirt.png"), tshirt_frame())
    cv2.imwrite(str(folder / "b_trouser.png"), trouser_frame())
    status = segmentation_command.main([str(folder), "--classify", "--taught", str(taught),
                                        "--format", "json"])
    captured = capsys.readouterr()
    return status, {Path(record["path"]).name: record
                    for record in map(json.loads, captured.out.strip().splitlines())}, captured.err


def test_segmentation_command_classifies_with_taught_examples(taught_photos, tmp_path, capsys):
    photos = tmp_path / "photos"
    status, records, errors = classify_tshirt_and_trouser(photos, taught_photos, capsys)
    assert status == 0
    assert records["a_tshirt.png"]["label"] == "Coat" and records["a_tshirt.png"]["taught"]
    assert records["b_trouser.png"]["label"] == "T-shirt/top"
    assert records["b_trouser.png"]["taught"] is False
    assert "broken.jpg" in errors and "1 taught example(s)" in errors
    segmentation_command.main([str(photos / "a_tshirt.png"), "--classify", "--taught",
                               str(taught_photos)])
    assert "-> Coat 1.00" in capsys.readouterr().out


def test_a_taught_nothing_example_makes_the_command_line_say_no_garment(taught_photos,
                                                                       tmp_path, capsys):
    (taught_photos / "nothing").mkdir()
    cv2.imwrite(str(taught_photos / "nothing" / "my-wall.png"), trouser_frame())
    photos = tmp_path / "photos"
    status, records, _ = classify_tshirt_and_trouser(photos, taught_photos, capsys)
    assert status == 0
    assert records["a_tshirt.png"]["answer"] == "Coat"  # The taught class still decides.
    trouser = records["b_trouser.png"]
    assert trouser["found"] and trouser["taught"] and trouser["label"] is None
    assert trouser["answer"] is None and trouser["answer_classes"] == []
    assert trouser["reason"] == segmentation_command.TAUGHT_NOTHING
    segmentation_command.main([str(photos / "b_trouser.png"), "--classify", "--taught",
                               str(taught_photos)])
    assert "-> no garment (taught)" in capsys.readouterr().out


def test_taught_command_line_errors_are_explained(taught_photos, tmp_path, capsys,
                                                   monkeypatch):
    from model import classifier as classify

    photo = tmp_path / "a.png"
    cv2.imwrite(str(photo), tshirt_frame())
    assert segmentation_command.main([str(photo), "--classify", "--taught",
                                      str(tmp_path / "none")]) == 2
    assert "not a folder" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        segmentation_command.main([str(photo), "--taught", str(taught_photos)])
    assert "--taught needs --classify" in capsys.readouterr().err
    monkeypatch.setattr(classify, "load_classifier",
                        lambda path=None, output_size=28: FakePredictor(embedding=False))
    assert segmentation_command.main([str(photo), "--classify", "--taught",
                                      str(taught_photos)]) == 2
    assert "gives no embedding" in capsys.readouterr().err


def test_evaluate_command_scores_with_taught_examples(taught_photos, tmp_path, capsys):
    photos = tmp_path / "labelled"
    for folder, frame in (("coats", tshirt_frame()), ("bottoms", trouser_frame())):
        (photos / folder).mkdir(parents=True)
        cv2.imwrite(str(photos / folder / "photo.png"), frame)
    (photos / "labels.csv").write_text("folder,accepted_classes,group_classes\n"
                                       "coats,4,0 2 4 6\nbottoms,1,1\n")
    assert evaluate.main([str(photos), "--format", "json", "--taught", str(taught_photos)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["folders"]["coats"]["exact"] == 1 and summary["folders"]["bottoms"]["exact"] == 0
    assert summary["overall"]["taught"] == 1
    assert evaluate.main([str(photos), "--taught", str(taught_photos)]) == 0
    assert "decided by a taught example: 1 of 2 photos" in capsys.readouterr().out


# ----- The goal commands -----

def test_the_demo_scenes_follow_make_demo(tmp_path):
    from camera_app.teach_check import demo_scenes

    for name in ("1-dress", "2-shirt", "3-pants", "4-shoes"):
        cv2.imwrite(str(tmp_path / f"{name}.jpg"), tshirt_frame())
    scenes = demo_scenes(tmp_path, seconds_per_scene=2.0, empty_every=3)
    assert [scene.name for scene in scenes] == ["1-dress", "2-shirt", "3-pants", "wall",
                                                "4-shoes"]
    assert [(scene.first, scene.end) for scene in scenes][-2:] == [(90, 120), (120, 150)]
    assert [scene.garment for scene in scenes] == [True, True, True, False, True]

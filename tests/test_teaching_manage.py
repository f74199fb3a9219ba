"""Managing taught examples (issue 31): undo, forget one class, the gallery, export and
import (app and command line), and teaching "nothing". Fake predictor, offscreen window."""

import os
import zipfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest
from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import QMessageBox

from camera_app.frame import TAUGHT_MARK, FrameSettings
from fakes import FakePredictor
from model import taught as taught_module
from model.taught import (
    CROP_SUFFIX,
    EMBEDDING_SUFFIX,
    INPUT_SUFFIX,
    NOTHING,
    TaughtExamples,
    export_zip,
    forget_all,
    import_examples,
    load_taught,
    save_example,
)
from segmentation import segment
import test_teaching
from test_teaching import (
    COAT,
    TROUSER,
    run_frames,
    shown_answer,
    trouser_frame,
    tshirt_frame,
)


# The window fixtures of test_teaching: camera 7 shows camera.frame, the model is a fake.
camera, open_window = test_teaching.camera, test_teaching.open_window


def examples(folder):
    return sorted(path.relative_to(folder).as_posix() for path in folder.rglob("*")
                  if path.is_file())


# ----- Undo, forget one class, the gallery -----

def test_undo_after_three_teaches_goes_back_one_example_at_a_time(
        open_window, camera, qtbot, tmp_path):
    folder = tmp_path / "taught"
    window = open_window(folder)
    for key in (Qt.Key_4, Qt.Key_4, Qt.Key_1):
        qtbot.keyClick(window, key)
    assert window.taught.counts()[[COAT, TROUSER]].tolist() == [2, 1]
    assert len(list(folder.rglob("*" + INPUT_SUFFIX))) == 3

    qtbot.keyClick(window, Qt.Key_Z, Qt.ControlModifier)
    assert window.taught.counts()[[COAT, TROUSER]].tolist() == [2, 0]
    assert window.worker.taught is window.taught
    assert "Undone: a Trouser example" in window.statusBar().currentMessage()
    assert not list((folder / "1").iterdir())  # Input, crop and embedding all gone.
    assert window.class_labels[TROUSER].text() == "1 Trouser"
    qtbot.keyClick(window, Qt.Key_Z, Qt.ControlModifier)
    qtbot.keyClick(window, Qt.Key_Z, Qt.ControlModifier)
    assert len(window.taught) == 0 and not list(folder.rglob("*.*"))
    qtbot.keyClick(window, Qt.Key_Z, Qt.ControlModifier)
    assert "Nothing to undo" in window.statusBar().currentMessage()


def test_forgetting_one_class_leaves_the_others(open_window, camera, qtbot, tmp_path,
                                                monkeypatch):
    folder = tmp_path / "taught"
    window = open_window(folder)
    for key in (Qt.Key_4, Qt.Key_4, Qt.Key_1):
        qtbot.keyClick(window, key)
    assert window.forget_class_buttons[COAT].isEnabled()
    assert not window.forget_class_buttons[COAT + 1].isEnabled()  # Nothing taught there.
    monkeypatch.setattr(QMessageBox, "question", lambda *arguments: QMessageBox.No)
    window.forget_class_buttons[COAT].click()
    assert window.taught.counts()[COAT] == 2  # Not confirmed.
    monkeypatch.setattr(QMessageBox, "question", lambda *arguments: QMessageBox.Yes)
    window.forget_class_buttons[COAT].click()
    assert window.taught.counts()[[COAT, TROUSER]].tolist() == [0, 1]
    assert window.worker.taught is window.taught
    assert not (folder / "4").exists() and len(list((folder / "1").glob("*"))) == 3
    assert "Forgot the 2 Coat example(s)" in window.teach_status.text()
    assert not window.forget_class_buttons[COAT].isEnabled()
    qtbot.waitUntil(lambda: shown_answer(window).startswith("Trouser"), timeout=5000)


def test_deleting_an_example_in_the_gallery(open_window, camera, qtbot, tmp_path):
    folder = tmp_path / "taught"
    window = open_window(folder)
    qtbot.keyClick(window, Qt.Key_4)
    qtbot.keyClick(window, Qt.Key_1)
    window.gallery_action.trigger()
    gallery = window.gallery
    assert gallery.isVisible() and not gallery.isModal()
    groups = [gallery.tree.topLevelItem(row) for row in range(gallery.tree.topLevelItemCount())]
    assert [group.text(0) for group in groups] == ["1 Trouser (1 taught)", "4 Coat (1 taught)"]
    coat = groups[1].child(0)
    assert coat.text(1)[:4].isdigit()  # Its date.
    qtbot.waitUntil(lambda: not gallery.waiting, timeout=5000)
    assert not coat.icon(0).isNull()  # The crop, read off the timer.
    coat.setSelected(True)
    assert gallery.delete_button.isEnabled()
    gallery.delete_button.click()
    assert window.taught.counts()[[COAT, TROUSER]].tolist() == [0, 1]
    assert window.worker.taught is window.taught and not list((folder / "4").iterdir())
    assert gallery.tree.topLevelItemCount() == 1
    assert gallery.tree.topLevelItem(0).text(0) == "1 Trouser (1 taught)"
    qtbot.waitUntil(lambda: shown_answer(window).startswith("Trouser"), timeout=5000)


# ----- Export and import -----

class ModelFilePredictor(FakePredictor):
    """A FakePredictor with a model file, so that saved embeddings carry what made them."""

    def __init__(self, path, scale=1.0):
        super().__init__()
        self.path, self.scale = str(path), scale

    def predict_with_embedding(self, images):
        probabilities, embeddings = super().predict_with_embedding(images)
        return probabilities, embeddings * self.scale


@pytest.fixture
def predictor(tmp_path):
    path = tmp_path / "model.tflite"
    path.write_bytes(b"model one")
    return ModelFilePredictor(path)


def teach_three(folder, predictor):
    """Two Coats and a "nothing" example (saved as the app saves them), and a photo."""
    inputs = {COAT: segment(tshirt_frame()).model_input,
              NOTHING: segment(trouser_frame()).model_input}
    for class_index, count in ((COAT, 2), (NOTHING, 1)):
        model_input = np.roll(inputs[class_index], 0)
        for shift in range(count):
            image = np.roll(model_input, shift, axis=1)
            embedding = taught_module.embed(predictor, image)[1][0]
            save_example(folder, class_index, image, tshirt_frame()[100:300, 200:400],
                         embedding, predictor)
    (folder / "1").mkdir()
    import cv2
    cv2.imwrite(str(folder / "1" / "photo.png"), trouser_frame())


def same_examples(first: TaughtExamples, second: TaughtExamples):
    order_first = np.lexsort(np.c_[first.embeddings, first.classes].T)
    order_second = np.lexsort(np.c_[second.embeddings, second.classes].T)
    np.testing.assert_array_equal(first.classes[order_first], second.classes[order_second])
    np.testing.assert_allclose(first.embeddings[order_first],
                               second.embeddings[order_second], atol=1e-6)


def test_export_forget_import_gives_the_same_examples(tmp_path, predictor):
    folder = tmp_path / "taught"
    teach_three(folder, predictor)
    before, files_before = load_taught(folder, predictor), examples(folder)
    assert len(before) == 4 and before.nothing_count() == 1
    assert export_zip(folder, tmp_path / "taught.zip") == 10  # 3 x 3 files and a photo.
    forget_all(folder)
    assert not folder.exists() or not list(folder.rglob("*.*"))
    report = import_examples(tmp_path / "taught.zip", folder, predictor)
    assert (report.imported, report.embedded_again, report.refused) == (4, 0, ())
    assert examples(folder) == files_before
    same_examples(before, load_taught(folder, predictor))
    again = import_examples(tmp_path / "taught.zip", folder, predictor)
    assert (again.imported, again.already_there) == (0, 4)  # Nothing doubled.
    assert examples(folder) == files_before


def test_examples_of_another_model_are_embedded_again_on_import(tmp_path, predictor):
    source = tmp_path / "from-elsewhere"
    teach_three(source, predictor)
    other_path = tmp_path / "other.tflite"
    other_path.write_bytes(b"model two")
    other = ModelFilePredictor(other_path, scale=-1.0)  # Its embeddings point the other way.
    folder = tmp_path / "taught"
    report = import_examples(source, folder, other)  # A folder, laid out the same way.
    assert (report.imported, report.embedded_again) == (4, 3)
    same_examples(load_taught(folder, other), load_taught(source, other))
    maker = taught_module.made_by(other, True)
    for path in folder.rglob("*" + EMBEDDING_SUFFIX):
        with np.load(path) as archive:
            assert str(archive["made_by"]) == maker


def test_import_refuses_damaged_files_and_paths_that_leave_the_folder(tmp_path, predictor):
    folder, source = tmp_path / "taught", tmp_path / "source"
    teach_three(source, predictor)
    export_zip(source, tmp_path / "good.zip")
    stem = sorted((source / "4").glob("*" + INPUT_SUFFIX))[0].name[:-len(INPUT_SUFFIX)]
    with zipfile.ZipFile(tmp_path / "good.zip") as good, \
            zipfile.ZipFile(tmp_path / "mixed.zip", "w") as mixed:
        for info in good.infolist():
            data = good.read(info)
            if info.filename == f"4/{stem}{EMBEDDING_SUFFIX}":
                data = data[:20]  # A damaged embedding: made again from its input.
            mixed.writestr(info.filename, data)
        mixed.writestr("4/broken" + INPUT_SUFFIX, b"\x89PNG not really")
        mixed.writestr("4/broken" + CROP_SUFFIX, b"\xff\xd8 not a jpeg")
        mixed.writestr("../escaped.png", good.read(f"4/{stem}{INPUT_SUFFIX}"))
        mixed.writestr("4/../../escaped2.png", good.read(f"4/{stem}{INPUT_SUFFIX}"))
        mixed.writestr("notes.txt", "not an example")
        mixed.writestr("4/notes.txt", "not an example")
    report = import_examples(tmp_path / "mixed.zip", folder, predictor)
    refused = "\n".join(report.refused)
    assert report.imported == 4 and report.embedded_again == 1
    assert "broken.input.png" in refused and "the example is refused" in refused
    assert "escaped.png" in refused and "escaped2.png" in refused
    assert "notes.txt" in refused and f"{stem}{EMBEDDING_SUFFIX}: not a readable" in refused
    assert len(report.refused) == 6
    assert not list(tmp_path.glob("escaped*")) and not list(folder.rglob("broken*"))
    assert load_taught(folder, predictor).counts()[COAT] == 2

    # A folder: a link that leads out of it is refused, the rest comes in.
    (tmp_path / "outside.png").write_bytes((source / "1" / "photo.png").read_bytes())
    (source / "1" / "link.png").symlink_to(tmp_path / "outside.png")
    report = import_examples(source, tmp_path / "second", predictor)
    assert report.imported == 4 and len(report.refused) == 1
    assert "link.png: a link that leaves the folder" in report.refused[0]


def test_import_of_something_that_is_not_a_zip_says_so(tmp_path, predictor):
    (tmp_path / "notes.zip").write_text("not a zip")
    with pytest.raises(ValueError, match="neither a folder nor a readable .zip"):
        import_examples(tmp_path / "notes.zip", tmp_path / "taught", predictor)


def test_export_and_import_on_the_command_line(tmp_path, predictor, monkeypatch, capsys):
    monkeypatch.setattr(taught_module, "load_predictor", lambda path=None: predictor)
    folder = tmp_path / "taught"
    teach_three(folder, predictor)
    assert taught_module.main(["export", str(folder), "--out", str(tmp_path / "t.zip")]) == 0
    assert "Exported 10 file(s)" in capsys.readouterr().out
    assert taught_module.main(["export", str(tmp_path / "none"), "--out",
                               str(tmp_path / "n.zip")]) == 2
    assert "no taught examples to export" in capsys.readouterr().err
    assert taught_module.main(["import", str(tmp_path / "t.zip"),
                               str(tmp_path / "copy")]) == 0
    assert "Imported 4 taught example(s)" in capsys.readouterr().out
    (tmp_path / "bad.zip").write_bytes(b"PK not a zip")
    assert taught_module.main(["import", str(tmp_path / "bad.zip"),
                               str(tmp_path / "copy")]) == 2
    assert "neither a folder nor a readable .zip" in capsys.readouterr().err
    with zipfile.ZipFile(tmp_path / "only-bad.zip", "w") as archive:
        archive.writestr("../escaped.png", b"x")
    assert taught_module.main(["import", str(tmp_path / "only-bad.zip"),
                               str(tmp_path / "copy")]) == 1
    assert "escaped.png" in capsys.readouterr().err
    assert taught_module.main(["count", str(tmp_path / "copy")]) == 0
    out = capsys.readouterr().out
    assert "4 Coat" in out and out.splitlines()[-1].split() == ["n", "nothing", "1"]
    # A mistyped folder is an error, not ten classes of nothing.
    assert taught_module.main(["count", str(tmp_path / "cpoy")]) == 2
    captured = capsys.readouterr()
    assert "cpoy is not a folder" in captured.err and captured.out == ""


def test_the_window_exports_and_imports_its_examples(open_window, camera, qtbot, tmp_path,
                                                     monkeypatch):
    folder = tmp_path / "taught"
    window = open_window(folder)
    qtbot.keyClick(window, Qt.Key_4)
    qtbot.keyClick(window, Qt.Key_N)
    assert window.export_taught(tmp_path / "mine.zip")
    assert "Exported 6 file(s)" in window.statusBar().currentMessage()
    monkeypatch.setattr(QMessageBox, "question", lambda *arguments: QMessageBox.Yes)
    window.forget_button.click()
    assert len(window.taught) == 0
    window.import_taught(tmp_path / "mine.zip")
    qtbot.waitUntil(lambda: window.taught is not None, timeout=10000)
    assert window.taught.counts()[COAT] == 1 and window.taught.nothing_count() == 1
    assert "Imported 2 taught example(s)" in window.message.text()
    assert window.worker.taught is window.taught


def test_a_flip_change_during_an_import_loads_again_after_it(open_window, camera, qtbot,
                                                              tmp_path, monkeypatch):
    folder = tmp_path / "taught"
    window = open_window(folder)
    qtbot.keyClick(window, Qt.Key_4)
    assert window.export_taught(tmp_path / "mine.zip")
    monkeypatch.setattr(QMessageBox, "question", lambda *arguments: QMessageBox.Yes)
    window.forget_button.click()
    window.import_taught(tmp_path / "mine.zip")
    window.controls["flip_averaging"].toggle()  # While the import writes into the folder.
    assert window.reload_taught and window.taught_loader.importing is not None
    qtbot.waitUntil(lambda: window.taught is not None and window.taught_loader is None,
                    timeout=10000)
    assert not window.reload_taught and "Imported 1 taught example(s)" in window.message.text()
    assert window.taught.counts()[COAT] == 1 and window.worker.taught is window.taught


# ----- "Nothing" -----

def test_a_taught_nothing_example_makes_the_answer_no_garment():
    predictor = FakePredictor()
    first = run_frames([tshirt_frame()], predictor, TaughtExamples.empty(16))[0]
    taught = TaughtExamples.empty(16).with_example(first.embedding, NOTHING)
    results = run_frames([trouser_frame()] * 3 + [tshirt_frame()] * 4 + [trouser_frame()] * 3,
                         predictor, taught)
    assert [result.answer.text for result in results[:3]] == ["T-shirt/top"] * 3
    assert all(result.decision.nothing and result.probabilities is None
               for result in results[3:7])
    # Counted as frames without a garment: after frames_before_no_garment, "no garment".
    misses = FrameSettings().frames_before_no_garment
    assert results[3 + misses - 1].answer.text == "no garment"
    assert results[3 + misses - 1].label == "no garment " + TAUGHT_MARK
    assert results[-1].answer.text == "T-shirt/top" and not results[-1].decision.nothing


def test_the_n_key_teaches_nothing(open_window, camera, qtbot, tmp_path):
    folder = tmp_path / "taught"
    window = open_window(folder)
    qtbot.waitUntil(lambda: shown_answer(window).startswith("T-shirt/top"), timeout=5000)
    assert window.teach_button.menu().actions()[-1].text() == "n nothing (no garment)"
    qtbot.keyClick(window, Qt.Key_N)
    assert window.taught.nothing_count() == 1 and len(list((folder / "nothing").glob(
        "*" + INPUT_SUFFIX))) == 1
    assert window.class_labels[NOTHING].text() == "n nothing (no garment) (1 taught)"
    assert "this is no garment" in window.teach_status.text()
    qtbot.waitUntil(lambda: shown_answer(window) == "no garment " + TAUGHT_MARK, timeout=5000)
    camera.frame = trouser_frame()
    qtbot.waitUntil(lambda: shown_answer(window).startswith("T-shirt/top"), timeout=5000)


# ----- The goal command's checks, on a tiny clip -----

def test_teach_check_nothing_goal_and_round_trip_on_a_tiny_clip(tmp_path, predictor, capsys):
    from camera_app.teach_check import Scene, nothing_goal, play, round_trip

    frames = [tshirt_frame()] * 8 + [trouser_frame()] * 8
    scenes = [Scene("shirt", 0, 8), Scene("trousers", 8, 16)]
    settings = FrameSettings()
    baseline, probabilities, _ = play(frames, predictor, settings, TaughtExamples.empty(16))
    nothing_at = {index: NOTHING for index in range(4)}
    assert nothing_goal(frames, scenes, predictor, settings, baseline, probabilities,
                        nothing_at, ["shirt"], 4)
    out = capsys.readouterr().out
    assert "4 of them hold an object" in out and "goal met" in out
    assert not nothing_goal(frames, scenes, predictor, settings, baseline, probabilities,
                            {0: NOTHING}, ["shirt"], 1)  # Too late: 2 frames of 7 hold on.
    assert round_trip(frames, predictor, settings, {**nothing_at, 8: COAT})
    assert "5 examples (4 nothing) saved" in capsys.readouterr().out


def test_a_member_damaged_inside_the_zip_is_refused_and_the_rest_come_in(tmp_path, predictor):
    source = tmp_path / "source"
    teach_three(source, predictor)
    photo = (source / "1" / "photo.png").read_bytes()
    with zipfile.ZipFile(tmp_path / "t.zip", "w", zipfile.ZIP_STORED) as archive:
        for path in sorted(source.rglob("*.*")):
            archive.write(path, path.relative_to(source).as_posix())
    data = bytearray((tmp_path / "t.zip").read_bytes())
    data[data.index(photo) + len(photo) // 2] ^= 0xFF  # The photo's CRC no longer matches.
    (tmp_path / "t.zip").write_bytes(bytes(data))
    report = import_examples(tmp_path / "t.zip", tmp_path / "taught", predictor)
    assert report.imported == 3 and len(report.refused) == 1
    assert "1/photo.png: damaged in the .zip" in report.refused[0]


def test_photos_sharing_a_name_or_in_sub_folders_survive_a_round_trip(tmp_path, predictor):
    import cv2

    folder = tmp_path / "taught"
    (folder / "1" / "from-my-phone").mkdir(parents=True)
    for name in ("photo.png", "photo.jpg", "from-my-phone/photo.png"):
        cv2.imwrite(str(folder / "1" / name), trouser_frame())
    assert len(load_taught(folder, predictor)) == 3  # The loader reads sub-folders too.
    files_before = examples(folder)
    assert export_zip(folder, tmp_path / "taught.zip") == 3
    forget_all(folder)
    report = import_examples(tmp_path / "taught.zip", folder, predictor)
    assert (report.imported, report.refused) == (3, ())
    assert examples(folder) == files_before

"""Faults that must end cleanly: files written whole or not at all, Ctrl-C and a closed pipe
on every command line, a full disk under --out, and the contact sheet's memory."""

from __future__ import annotations

import ast
import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from segmentation import __main__ as command_line
from segmentation import files
from segmentation.command import INTERRUPTED, PIPE_CLOSED, run_command
from segmentation.images import TILE_SIZE, write_image
from synthetic_images import tshirt_photo

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("camera_app", "segmentation", "model")


def fail_on_fsync(monkeypatch):
    """Makes the last step before the rename fail as a full disk does."""
    def no_space(descriptor):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(files.os, "fsync", no_space)


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "mask.png"
    write_image(target, np.zeros((4, 4), np.uint8))
    before = target.read_bytes()
    fail_on_fsync(monkeypatch)
    with pytest.raises(OSError, match="No space"):
        write_image(target, np.full((8, 8), 255, np.uint8))
    assert target.read_bytes() == before
    assert [path.name for path in tmp_path.iterdir()] == ["mask.png"]


def test_an_interrupted_writer_leaves_nothing(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        with files.atomic_path(tmp_path / "model.keras") as temporary:
            assert temporary.parent == tmp_path and temporary.suffix == ".keras"
            temporary.write_bytes(b"half a model")
            raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_written_files_are_whole_and_readable(tmp_path):
    files.write_text(tmp_path / "card.json", '{"a": 1}\n')
    assert (tmp_path / "card.json").read_text() == '{"a": 1}\n'
    with files.atomic_path(tmp_path / "arrays.npz") as temporary:
        np.savez(temporary, values=np.arange(3))
    with np.load(tmp_path / "arrays.npz") as archive:
        assert archive["values"].tolist() == [0, 1, 2]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["arrays.npz", "card.json"]


def test_run_command_ends_ctrl_c_with_one_line_and_status_130(capsys):
    def interrupted(argv=None):
        raise KeyboardInterrupt

    assert run_command(interrupted) == INTERRUPTED == 130
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "Interrupted" in error


def test_every_entry_point_ends_through_run_command():
    """Each `if __name__ == "__main__":` block of the packages calls run_command(main)."""
    unwrapped = []
    for path in sorted(path for package in PACKAGES for path in (ROOT / package).rglob("*.py")):
        tree = ast.parse(path.read_text())
        for node in tree.body:
            if isinstance(node, ast.If) and "__main__" in ast.unparse(node.test):
                if "run_command(main)" not in ast.unparse(node):
                    unwrapped.append(str(path.relative_to(ROOT)))
    assert unwrapped == []


@pytest.fixture
def many_photos(tmp_path) -> list[str]:
    """One small photo named 3,000 times on the command line: a batch whose output lines
    (about 450 kB) overflow a pipe's buffer, so the command cannot finish before the test
    has read its first line, however busy the machine."""
    photo = tmp_path / "tshirt.png"
    cv2.imwrite(str(photo), tshirt_photo(240, 320)[0])
    return [str(photo)] * 3000


def as_from_a_terminal() -> None:
    """In the child before it starts: Ctrl-C as a terminal delivers it. A shell that starts a
    job in the background (`make test &`, some CI runners) ignores SIGINT for it, and a Python
    that starts with SIGINT ignored keeps ignoring it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_segmentation(arguments) -> subprocess.Popen:
    environment = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-m", "segmentation", *arguments], cwd=ROOT,
                            env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=as_from_a_terminal)


def test_a_closed_pipe_ends_the_command_quietly(many_photos):
    process = start_segmentation(many_photos)
    assert process.stdout.readline()  # `| head -1`: one line read, then the pipe closes.
    process.stdout.close()
    error = process.stderr.read().decode()
    assert process.wait(timeout=60) == PIPE_CLOSED
    assert error == ""


def test_ctrl_c_ends_the_command_with_one_line_and_status_130(many_photos, tmp_path):
    process = start_segmentation(many_photos + ["--out", str(tmp_path / "out")])
    assert process.stdout.readline()  # It is working on the batch.
    process.send_signal(signal.SIGINT)
    _, error = process.communicate(timeout=60)
    assert process.returncode == 130
    assert error.decode().strip().count("\n") == 0 and "Interrupted" in error.decode()
    assert not [path for path in (tmp_path / "out").iterdir() if ".tmp" in path.name]


def test_a_full_disk_under_out_is_one_message(tmp_path, monkeypatch, capsys):
    photo = tmp_path / "tshirt.png"
    cv2.imwrite(str(photo), tshirt_photo()[0])
    out = tmp_path / "out"
    out.mkdir()
    fail_on_fsync(monkeypatch)
    assert command_line.main([str(photo), "--out", str(out)]) == 2
    assert "No space left on device" in capsys.readouterr().err
    assert list(out.iterdir()) == []  # No half-written PNG.


def test_a_long_file_name_gets_its_pictures_and_a_temporary_name_that_fits(tmp_path, capsys):
    # 240 bytes of name: its own outputs and their temporary names would pass the 255-byte limit.
    photos = tmp_path / "photos"
    photos.mkdir()
    for name in ("é" * 117 + "t.png", "short.png"):
        cv2.imwrite(str(photos / name), tshirt_photo()[0])
    out = tmp_path / "out"
    assert command_line.main([str(photos), "--out", str(out)]) == 0
    written = sorted(path.name for path in out.iterdir())
    assert len([name for name in written if name.endswith("_input_x10.png")]) == 2
    assert max(len(name.encode()) for name in written) <= 255
    assert "error" not in capsys.readouterr().err
    assert files.clipped("é" * 3, 5) == "éé"  # A character is never cut in half.


def test_pictures_that_cannot_be_written_for_one_image_do_not_stop_the_batch(tmp_path,
                                                                             monkeypatch,
                                                                             capsys):
    photos = tmp_path / "photos"
    photos.mkdir()
    for name in ("a.png", "b.png", "c.png"):
        cv2.imwrite(str(photos / name), tshirt_photo()[0])
    write_outputs = command_line.write_outputs

    def refuse_b(out_dir, index, path, *rest):
        if path.name == "b.png":
            raise PermissionError(errno.EACCES, "Permission denied")
        return write_outputs(out_dir, index, path, *rest)

    monkeypatch.setattr(command_line, "write_outputs", refuse_b)
    out = tmp_path / "out"
    assert command_line.main([str(photos), "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.out.count("found") == 3  # Every image is still segmented and printed.
    assert "b.png: error: its pictures could not be written" in captured.err
    assert "Permission denied" in captured.err
    assert {path.name.split("_")[1] for path in out.glob("*_mask.png")} == {"a", "c"}
    assert (out / "contact_sheet.png").is_file()


def test_the_contact_sheet_keeps_small_tiles_only(tmp_path):
    """Each image's row of the sheet is kept as tiles, not as full-size pictures."""
    from segmentation.config import SegmentationConfig
    from segmentation.pipeline import segment

    frame = tshirt_photo(1500, 2000)[0]
    result = segment(frame)
    tiles, caption = command_line.write_outputs(tmp_path, 0, Path("big.jpg"), frame, result,
                                                "T-shirt/top 0.90", SegmentationConfig())
    assert [tile.shape for tile in tiles] == [(TILE_SIZE, TILE_SIZE, 3)] * 4
    assert caption == "big.jpg: T-shirt/top 0.90"


# ----- Taught folders: damaged files, odd names, folders that cannot be read -----

class EmbeddingPredictor:
    """A fake model with a file: embeds an image as its 4x4 block means."""

    embedding_size = 16

    def __init__(self, path):
        self.path = path

    def predict_with_embedding(self, images):
        images = np.asarray(images, np.float32)
        blocks = images.reshape(len(images), 4, 7, 4, 7).mean(axis=(2, 4)).reshape(-1, 16)
        return np.tile(np.float32([0.7] + [0.3 / 9] * 9), (len(images), 1)), blocks + 1


@pytest.fixture
def taught_predictor(tmp_path):
    model = tmp_path / "model.tflite"
    model.write_bytes(b"a model")
    return EmbeddingPredictor(model)


def teach_examples(folder, predictor, count=3, class_index=4) -> list[Path]:
    from model.taught import embed, save_example

    paths = []
    for seed in range(count):
        image = np.random.default_rng(seed).integers(0, 256, (28, 28), dtype=np.uint8)
        paths.append(save_example(folder, class_index, image, None,
                                  embed(predictor, image)[1][0], predictor))
    return paths


def test_empty_and_truncated_embedding_files_are_made_again(tmp_path, taught_predictor):
    from model.taught import EMBEDDING_SUFFIX, INPUT_SUFFIX, load_taught

    folder = tmp_path / "taught"
    inputs = teach_examples(folder, taught_predictor)
    embeddings = [Path(str(path)[:-len(INPUT_SUFFIX)] + EMBEDDING_SUFFIX) for path in inputs]
    embeddings[0].write_bytes(b"")  # A save cut short by a full disk, as before the fix.
    embeddings[1].write_bytes(embeddings[1].read_bytes()[:100])
    taught = load_taught(folder, taught_predictor)
    assert taught.counts()[4] == 3 and taught.skipped == ()


def test_a_save_writes_no_temporary_files_and_the_input_last(tmp_path, taught_predictor,
                                                            monkeypatch):
    from model.taught import load_taught

    folder = tmp_path / "taught"
    fail_on_fsync(monkeypatch)  # The disk fills up during the save.
    with pytest.raises(OSError):
        teach_examples(folder, taught_predictor, count=1)
    monkeypatch.undo()
    assert [path.name for path in (folder / "4").iterdir()] == []
    assert len(load_taught(folder, taught_predictor)) == 0


def test_odd_folder_names_are_skipped_with_a_message(tmp_path, taught_predictor):
    from model.taught import load_taught

    folder = tmp_path / "taught"
    teach_examples(folder, taught_predictor, count=2)
    for name in ("²", "٣", "04", "10"):
        (folder / name).mkdir()
    os.mkdir(os.fsencode(folder) + b"/\xff-not-utf8")
    taught = load_taught(folder, taught_predictor)
    assert len(taught) == 2 and len(taught.skipped) == 5
    "\n".join(taught.skipped).encode("utf-8")  # Every message can be shown in a widget.


def refuse_to_list(monkeypatch, refused: Path):
    """Listing the refused folder fails as it does without read permission (tests may run as
    root, for whom chmod does not refuse)."""
    for name in ("scandir", "listdir"):
        real = getattr(os, name)

        def refusing(path=".", real=real):
            if Path(os.fsdecode(path)) == refused:
                raise PermissionError(13, "Permission denied", str(path))
            return real(path)
        monkeypatch.setattr(os, name, refusing)


def test_an_unreadable_class_folder_is_named(tmp_path, taught_predictor, monkeypatch):
    from model.taught import load_taught

    folder = tmp_path / "taught"
    teach_examples(folder, taught_predictor, count=2, class_index=4)
    teach_examples(folder, taught_predictor, count=1, class_index=7)
    refuse_to_list(monkeypatch, folder / "7")
    taught = load_taught(folder, taught_predictor)
    assert taught.counts().tolist() == [0, 0, 0, 0, 2, 0, 0, 0, 0, 0]
    assert len(taught.skipped) == 1 and "Permission denied" in taught.skipped[0]
    assert str(folder / "7") in taught.skipped[0]


def test_an_unreadable_taught_folder_is_named(tmp_path, taught_predictor, monkeypatch):
    from model.taught import load_taught

    folder = tmp_path / "taught"
    teach_examples(folder, taught_predictor, count=2)
    refuse_to_list(monkeypatch, folder)
    taught = load_taught(folder, taught_predictor)
    assert len(taught) == 0
    assert len(taught.skipped) == 1 and "cannot be read" in taught.skipped[0]


def test_the_nearest_example_is_the_one_of_highest_cosine_similarity():
    from model.taught import TaughtExamples

    random = np.random.default_rng(0)
    taught = TaughtExamples.from_embeddings(random.standard_normal((3000, 64)),
                                            random.integers(0, 10, 3000))
    frames = random.standard_normal((5, 64)).astype(np.float32)
    similarity, classes = taught.nearest(frames)
    expected = (frames / np.linalg.norm(frames, axis=1, keepdims=True)) @ taught.embeddings.T
    assert np.allclose(similarity, expected.max(axis=1), atol=1e-5)
    assert (classes == taught.classes[expected.argmax(axis=1)]).all()


# ----- labels.csv: every row checked, a bad one refused with its line number -----

@pytest.mark.parametrize("row, why", [
    (" ,0,0 2 4 6", "is not the name of one sub-folder"),  # Would take every photo.
    (".,0,0", "is not the name of one sub-folder"),
    ("../elsewhere,0,0", "is not the name of one sub-folder"),
    ("tops/shirts,0,0", "is not the name of one sub-folder"),
    ("shirt,2,6,0 2 4 6", "4 fields where 3 are expected"),
    ("shirt,2 6", "2 fields where 3 are expected"),
    ("shirt,2 6,2", "must all be among group_classes"),
    ("shirt,2;6,2 6", "must be class indices 0-9"),
    ("shirt,-1,0", "must be class indices 0-9"),
    ("pants,1,1", "folder 'pants' is listed twice"),
])
def test_a_malformed_labels_row_is_refused_with_its_line(tmp_path, row, why):
    from model.photos import read_labels

    path = tmp_path / "labels.csv"
    path.write_text(f"folder,accepted_classes,group_classes\npants,1,1\n\n{row}\ndress,3,3\n")
    with pytest.raises(ValueError, match=f"line 4: .*{why}"):
        read_labels(path)


def test_a_labels_file_from_a_spreadsheet_reads(tmp_path):
    from model.photos import read_labels

    path = tmp_path / "labels.csv"
    path.write_bytes("\ufefffolder,accepted_classes,group_classes\r\nshirt,6,0 2 4 6\r\n"
                     .encode("utf-8"))
    assert [(item.folder, item.accepted_classes) for item in read_labels(path)] == \
        [("shirt", (6,))]


@pytest.mark.slow
def test_ctrl_c_closes_the_app_with_one_line_and_status_130(tmp_path):
    """The window is up on the demo (offscreen); Ctrl-C closes it, saving the settings."""
    environment = dict(os.environ, PYTHONPATH=str(ROOT), QT_QPA_PLATFORM="offscreen",
                       HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path),
                       XDG_DATA_HOME=str(tmp_path))
    process = subprocess.Popen([sys.executable, "-m", "camera_app", "--source", "demo"],
                               cwd=ROOT, env=environment, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, preexec_fn=as_from_a_terminal)
    settings = tmp_path / "FashionCam" / "FashionCam.conf"
    time.sleep(6)  # Start-up: imports, the window, the model and the first frames.
    assert process.poll() is None
    process.send_signal(signal.SIGINT)
    _, error = process.communicate(timeout=30)
    assert process.returncode == 130
    assert error.decode().count("Interrupted") == 1 and "Traceback" not in error.decode()
    assert settings.is_file()  # Closed as by the window's close button.


@pytest.mark.parametrize("damage", [b"", b"PK\x03\x04 cut short", b"not a cache at all"])
def test_a_damaged_photo_cache_is_built_again(tmp_path, damage, capsys):
    from model.photos import load_photo_set
    from synthetic_images import make_photo_folder

    root = make_photo_folder(tmp_path / "photos", count=1)
    cache = tmp_path / "cache.npz"
    cache.write_bytes(damage)
    photo_set = load_photo_set(root, cache=cache)
    assert len(photo_set.images) > 0
    assert "Rebuilding it" in capsys.readouterr().err
    assert load_photo_set(root, cache=cache).checksum == photo_set.checksum  # Whole now.


def test_a_photo_cache_that_cannot_be_written_costs_only_time(tmp_path, capsys):
    from model.photos import load_photo_set
    from synthetic_images import make_photo_folder

    root = make_photo_folder(tmp_path / "photos", count=1)
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    photo_set = load_photo_set(root, cache=blocker / "cache.npz")
    assert len(photo_set.images) > 0
    assert "could not be written" in capsys.readouterr().err

"""Faults that must end cleanly: files written whole or not at all, Ctrl-C and a closed pipe
on every command line, a full disk under --out, and the contact sheet's memory."""

from __future__ import annotations

import ast
import errno
import os
import signal
import subprocess
import sys
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
    """One small photo named 400 times on the command line: a batch that takes a while."""
    photo = tmp_path / "tshirt.png"
    cv2.imwrite(str(photo), tshirt_photo(240, 320)[0])
    return [str(photo)] * 400


def start_segmentation(arguments) -> subprocess.Popen:
    environment = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-m", "segmentation", *arguments], cwd=ROOT,
                            env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


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

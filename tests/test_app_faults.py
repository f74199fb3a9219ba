"""The window carries on through faults it cannot foresee: a source or a model that raises
something unexpected, a settings file Qt did not write, no camera at all, and many taught
examples, which load off the GUI thread. A small fake model; no webcam, no shipped model."""

from __future__ import annotations

import os
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest
from PyQt5.QtCore import QSettings

from camera_app import window as window_module
from camera_app.controls import CONTROLS, setting_of, stored_setting
from camera_app.frame import FrameSettings
from camera_app.window import MainWindow
from model.taught import load_taught, save_example
from synthetic_images import tshirt_photo

NO_CAMERAS = []  # The machine's camera list, faked: none.


class FakePredictor:
    """Always class 0 (90%); the embedding is the input's 4x4 block means. A positive
    embed_seconds makes every embedding of more than two images that slow (loading)."""

    path = None
    embedding_size = 16

    def __init__(self, embed_seconds: float = 0.0):
        self.embed_seconds = embed_seconds

    def predict(self, images):
        probabilities = np.full(10, 0.1 / 9, np.float32)
        probabilities[0] = 0.9
        return np.repeat(probabilities[np.newaxis], len(np.asarray(images).reshape(-1, 784)), 0)

    def predict_with_embedding(self, images):
        images = np.asarray(images, np.float32).reshape(-1, 28, 28)
        if len(images) > 2:
            time.sleep(self.embed_seconds)
        blocks = images.reshape(len(images), 4, 7, 4, 7).mean(axis=(2, 4)).reshape(-1, 16)
        return self.predict(images), blocks - 64


class StillSource:
    """A source of one photo, endlessly; fail_after frames it raises error instead."""

    name = "still camera"
    frame_interval = 0.02
    new_scene = False

    def __init__(self, error=None, fail_after=10 ** 9):
        self.frame, self.error, self.left = tshirt_photo()[0], error, fail_after

    def read(self):
        self.left -= 1
        if self.left < 0:
            raise self.error
        return self.frame

    def release(self):
        pass


@pytest.fixture
def store(tmp_path):
    return QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)


@pytest.fixture
def fake_model(monkeypatch):
    monkeypatch.setattr(window_module, "load_predictor", lambda path=None: FakePredictor())


@pytest.fixture
def open_window(qtbot, store, tmp_path):
    def opener(source="demo", **keywords):
        keywords.setdefault("taught_folder", tmp_path / "taught")
        keywords.setdefault("cameras", NO_CAMERAS)
        keywords.setdefault("settings_store", store)
        window = MainWindow(source=source, **keywords)
        qtbot.addWidget(window)
        window.show()
        with qtbot.waitSignal(window.first_frame_shown, timeout=15000):
            pass
        return window

    return opener


def fake_sources(monkeypatch, sources: dict):
    """open_source gives the fake sources by spec, else opens as usual."""
    real = window_module.open_source
    monkeypatch.setattr(window_module, "open_source",
                        lambda spec, loop=True: sources[spec]() if spec in sources
                        else real(spec, loop))


def test_a_source_that_raises_anything_when_opened_is_shown(open_window, monkeypatch,
                                                           fake_model):
    def broken():
        raise RuntimeError("the driver said no")

    fake_sources(monkeypatch, {"5": broken})
    window = open_window("5")  # At start: the demo plays instead.
    assert "RuntimeError: the driver said no" in window.message.text()
    assert window.source_spec == "demo"
    assert not window.set_source("5")  # Chosen later: the demo goes on.
    assert window.source_spec == "demo" and window.worker.isRunning()


def test_a_source_that_raises_anything_while_reading_is_shown(open_window, monkeypatch,
                                                             fake_model, qtbot):
    fake_sources(monkeypatch, {"6": lambda: StillSource(MemoryError("no buffer"), 3)})
    window = open_window("6")
    qtbot.waitUntil(lambda: "no buffer" in window.message.text(), timeout=10000)
    qtbot.waitUntil(lambda: window.source_spec == "demo", timeout=10000)


def test_a_model_that_raises_anything_when_loaded_is_shown(open_window, monkeypatch):
    def broken(path=None):
        raise IndexError("tensor index out of range")

    monkeypatch.setattr(window_module, "load_predictor", broken)
    window = open_window()
    assert "could not be loaded: IndexError: tensor index out of range" in window.message.text()
    assert window.predictor is None and not window.video.pixmap().isNull()


def test_settings_of_the_wrong_kind_fall_back_one_by_one(open_window, store, fake_model):
    store.setValue("geometry", "not a geometry")
    store.setValue("snapshot_folder", ["a", "list"])
    store.setValue("hue_tolerance", 120)  # The configuration allows it, the slider (0-90) not.
    store.setValue("saturation_tolerance", "nan")
    store.setValue("value_tolerance", 77)
    store.setValue("sample_window", 0.255)  # Between two steps of the percentage slider.
    store.setValue("variant", "fancy")
    store.setValue("mirror", "true")
    store.sync()
    window = open_window()
    defaults = FrameSettings()
    segmentation = window.settings.segmentation
    assert segmentation.hue_tolerance == defaults.segmentation.hue_tolerance
    assert segmentation.saturation_tolerance == defaults.segmentation.saturation_tolerance
    assert segmentation.variant == defaults.segmentation.variant
    assert segmentation.value_tolerance == 77 and window.settings.mirror
    assert segmentation.sample_window == pytest.approx(0.26)
    assert window.snapshot_folder == window_module.DEFAULT_SNAPSHOT_FOLDER
    for control in CONTROLS:  # Every control shows the setting in use.
        value = setting_of(window.settings, control.name)
        shown = window_module.control_value(window.controls[control.name])
        assert shown == (round(value * control.scale) if control.scale != 1 else value)


def test_a_stored_value_is_read_through_its_controls_range():
    hue = next(control for control in CONTROLS if control.name == "hue_tolerance")
    window = next(control for control in CONTROLS if control.name == "sample_window")
    assert stored_setting(hue, "33") == 33 and stored_setting(hue, 33.4) == 33
    for bad in (None, "91", -1, "inf", "nan", "abc", True, [1], b"5"):
        assert stored_setting(hue, bad) is None, bad
    assert stored_setting(window, "0.25") == 0.25 and stored_setting(window, 0.9) is None


def test_without_cameras_the_list_offers_the_demo(open_window, fake_model):
    window = open_window("0")  # Camera 0 does not exist here: the demo plays.
    assert [window.source_choice.itemText(index)
            for index in range(window.source_choice.count())] == ["Demo clip"]


def teach_many(folder, count: int):
    """count taught examples saved without embeddings, so loading has to embed them all."""
    random = np.random.default_rng(0)
    for index in range(count):
        save_example(folder, index % 10, random.integers(0, 256, (28, 28), dtype=np.uint8))


def window_loading(qtbot, store, folder, count: int, embed_seconds: float, monkeypatch):
    """A shown window whose taught folder holds count examples without embeddings, on a fake
    model that takes embed_seconds to embed them (so they load for that long)."""
    teach_many(folder, count)
    monkeypatch.setattr(window_module, "load_predictor",
                        lambda path=None: FakePredictor(embed_seconds=embed_seconds))
    window = MainWindow(source="demo", settings_store=store, taught_folder=folder,
                        cameras=NO_CAMERAS)
    qtbot.addWidget(window)
    window.show()
    return window


def test_taught_examples_load_off_the_gui_thread_with_progress(qtbot, store, tmp_path,
                                                              monkeypatch):
    window = window_loading(qtbot, store, tmp_path / "taught", 120, 1.5,
                            monkeypatch)
    with qtbot.waitSignal(window.first_frame_shown, timeout=15000):
        pass
    # Frames play while the examples are embedded (1.5 s on the loader's thread).
    assert window.taught_loader is not None and window.taught is None
    assert "Loading the taught examples" in window.teach_status.text()
    assert not window.teach_button.isEnabled()
    qtbot.waitUntil(lambda: window.taught is not None, timeout=15000)
    assert len(window.taught) == 120 and window.worker.taught is window.taught
    assert "120 taught" in window.teach_status.text()


def test_flip_averaging_changed_while_loading_loads_again(qtbot, store, tmp_path, monkeypatch):
    window = window_loading(qtbot, store, tmp_path / "taught", 30, 0.5,
                            monkeypatch)
    qtbot.waitUntil(lambda: window.taught_loader is not None, timeout=15000)
    first = window.taught_loader
    flip = next(control.name for control in CONTROLS if control.kind == "check"
                and control.name.startswith("flip"))
    window.controls[flip].toggle()
    assert window.taught_loader is not first and window.taught_loader is not None
    qtbot.waitUntil(lambda: window.taught is not None, timeout=15000)
    # The examples in use are those embedded with the new setting, not the first loader's.
    new, old = (load_taught(tmp_path / "taught", FakePredictor(), flip=flip_now)
                for flip_now in (window.settings.flip_averaging,
                                 not window.settings.flip_averaging))
    assert len(window.taught) == 30 and not np.allclose(new.embeddings, old.embeddings)
    np.testing.assert_allclose(window.taught.embeddings, new.embeddings, atol=1e-6)


def test_closing_while_taught_examples_load_waits_for_the_loader(qtbot, store, tmp_path,
                                                                 monkeypatch):
    window = window_loading(qtbot, store, tmp_path / "taught", 30, 0.5,
                            monkeypatch)
    qtbot.waitUntil(lambda: window.taught_loader is not None, timeout=15000)
    loader = window.taught_loader
    window.close()  # While it embeds: the thread must end before its object goes.
    assert loader.isFinished()


def test_a_finished_loader_is_cleaned_up(qtbot, store, tmp_path, monkeypatch, fake_model):
    from camera_app.worker import TaughtLoader

    teach_many(tmp_path / "taught", 5)
    window = MainWindow(source="demo", settings_store=store, taught_folder=tmp_path / "taught",
                        cameras=NO_CAMERAS)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.taught is not None, timeout=15000)
    qtbot.waitUntil(lambda: not window.findChildren(TaughtLoader), timeout=5000)
    assert len(window.taught) == 5


def test_a_settings_file_of_values_qt_cannot_read_opens_with_defaults(open_window, tmp_path,
                                                                    qtbot, fake_model):
    path = tmp_path / "damaged.ini"
    path.write_text("[General]\ngeometry=@Variant(\\0\\0\\0\\x7f\\0\\0\\0\\x18QPolygonF junk)\n"
                    "snapshot_folder=@Variant(\\0\\0\\0\\x11\\xff\\xff)\n"
                    "hue_tolerance=@Variant(junk)\nmirror=@Invalid()\nvalue_tolerance=77\n")
    window = open_window(settings_store=QSettings(str(path), QSettings.IniFormat))
    assert window.snapshot_folder == window_module.DEFAULT_SNAPSHOT_FOLDER
    assert window.settings.segmentation.value_tolerance == 77
    assert window.settings.segmentation.hue_tolerance == \
        FrameSettings().segmentation.hue_tolerance


def test_without_qt_multimedia_the_linux_capture_devices_are_listed(tmp_path, monkeypatch):
    import sys

    from camera_app import sources

    for name, index, description in (("video0", "0", "Integrated Webcam"),
                                     ("video1", "1", "Integrated Webcam"),  # Its metadata.
                                     ("video10", "0", "USB Camera")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "index").write_text(index + "\n")
        (tmp_path / name / "name").write_text(description + "\n")
    monkeypatch.setattr(sources, "VIDEO4LINUX", tmp_path)
    monkeypatch.setitem(sys.modules, "PyQt5.QtMultimedia", None)  # Cannot be imported.
    assert sources.list_cameras() == [("Integrated Webcam (camera 0)", "0"),
                                      ("USB Camera (camera 10)", "10")]

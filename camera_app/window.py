"""The FashionCam main window: the live view, the answer, the probability bars and the controls.

Only this thread (the GUI thread) touches widgets; frames are processed by a FrameWorker.
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from pathlib import Path

import numpy as np
from PyQt5.QtCore import QByteArray, QSettings, QStandardPaths, Qt, QTimer, pyqtSignal
from PyQt5.QtGui import QFont, QImage, QKeySequence, QPixmap
from PyQt5.QtWidgets import (QCheckBox, QComboBox, QFileDialog, QFormLayout, QGroupBox,
                             QHBoxLayout, QLabel, QMainWindow, QMenu, QMessageBox, QProgressBar,
                             QPushButton, QShortcut, QSizePolicy, QSlider, QSpinBox, QToolButton,
                             QVBoxLayout, QWidget)

from camera_app.controls import (CONTROLS, HSV_TOLERANCES, setting_of, stored_setting,
                                 with_settings)
from camera_app.frame import FrameSettings, save_snapshot
from camera_app.sources import SourceError, list_cameras, open_source
from camera_app.gallery import TaughtGallery
from camera_app.teaching import (class_label, class_name, export, forget, forget_one_class,
                                 gallery_entries, open_taught, remove_example, taught_count,
                                 teach)
from camera_app.worker import FrameWorker, TaughtLoader
from model.calibration import UncalibratedWarning
from model.classes import CLASS_NAMES
from model.other_garments import NoDetectorWarning
from model.predictor import ModelLoadError, load_predictor
from model.taught import NOTHING
from segmentation.images import IMAGE_SUFFIXES

DEFAULT_SNAPSHOT_FOLDER = Path.home() / "Pictures" / "FashionCam"
VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm")  # Offered by "Open file...".
# Warnings of a model that loads without part of what the app relies on; shown in the window.
MODEL_WARNINGS = (UncalibratedWarning, NoDetectorWarning)


def control_value(widget):
    """What a control shows: an int, a bool (check box) or a text (choice)."""
    if isinstance(widget, QCheckBox):
        return widget.isChecked()
    if isinstance(widget, QComboBox):
        return widget.currentText()
    return widget.value()


def set_control_value(widget, value):
    if isinstance(widget, QCheckBox):
        widget.setChecked(value)
    elif isinstance(widget, QComboBox):
        widget.setCurrentText(value)
    else:
        widget.setValue(value)


def default_taught_folder() -> Path:
    """Where the app keeps taught examples: "taught" in its data folder (AppDataLocation)."""
    return Path(QStandardPaths.writableLocation(QStandardPaths.AppDataLocation)) / "taught"


def fault_text(error: Exception, opened: str = "") -> str:
    """A fault for the user, one sentence: the text of the app's own errors (SourceError,
    ModelLoadError) as it is; any other error with its kind and what was being opened."""
    if isinstance(error, (SourceError, ModelLoadError)):
        return str(error)
    where = f"{opened} could not be opened: " if opened else ""
    return f"{where}{type(error).__name__}: {str(error).rstrip('.')}."


def to_pixmap(image: np.ndarray) -> QPixmap:
    """Converts a uint8 BGR or grey numpy image to a QPixmap (copied, so the array may change)."""
    image = np.ascontiguousarray(image)
    height, width = image.shape[:2]
    if image.ndim == 2:
        qimage = QImage(image.data, width, height, width, QImage.Format_Grayscale8)
    else:
        qimage = QImage(image.data, width, height, 3 * width, QImage.Format_BGR888)
    return QPixmap.fromImage(qimage.copy())


class MainWindow(QMainWindow):
    """The app window. Give it a QSettings to keep settings elsewhere (tests use a temporary file)."""

    # Emitted once, when the first processed frame has been shown.
    first_frame_shown = pyqtSignal()

    def __init__(self, source: str = "0", model_path=None, mirror: bool | None = None,
                 settings_store: QSettings | None = None, launched: float | None = None,
                 taught_folder=None, cameras=None):
        """cameras: (device name, description) pairs to offer in the source list (tests give
        a fake list); None lists the cameras the system has (camera_app.sources)."""
        super().__init__()
        self.setWindowTitle("FashionCam")
        self.store = settings_store if settings_store is not None else QSettings("FashionCam",
                                                                                 "FashionCam")
        self.launched = launched if launched is not None else time.perf_counter()
        self.shown_seconds = None  # Launch to the window on screen, once known.
        self.startup_seconds = None  # Launch to the first shown frame, once known.
        self.requested_source = str(source)
        self.model_path = model_path
        self.predictor = None
        # Taught examples: their folder, and the set (None while teaching is off), replaced
        # whole when a garment is taught so that the worker never sees a half-updated one.
        self.taught_folder = Path(taught_folder) if taught_folder else default_taught_folder()
        self.taught = None
        self.taught_loader = None  # The TaughtLoader at work, while taught examples load.
        # Whether to load the taught examples again once the import at work has ended.
        self.reload_taught = False
        self.taught_this_session = []  # Source paths of the examples taught here, for undo.
        self.gallery = None  # The gallery dialog, once opened.
        self.cameras = cameras
        self.worker = None
        # Workers asked to stop that had not ended within their wait: kept until they have,
        # since a QThread destroyed while it runs aborts the process.
        self.ending_workers = []
        self.source_name = ""
        self.source_spec = None  # What the playing source was opened from ("0", "demo", a path).
        self.messages = {}  # The faults shown above the view, by kind ("model", "source", ...).
        self.last_result = None
        self.frame_times = []  # perf_counter() of recently shown frames, for the FPS figure.
        self.settings = self.load_settings()
        if mirror is not None:
            self.settings = dataclasses.replace(self.settings, mirror=mirror)
        folder = self.stored_value("snapshot_folder")
        # A value Qt did not write (not a text) falls back to the default.
        self.snapshot_folder = Path(folder) if isinstance(folder, str) and folder.strip() \
            else DEFAULT_SNAPSHOT_FOLDER
        self.showing_settings = False
        self.build_widgets()
        self.show_settings(self.settings)
        self.resize(1180, 720)
        geometry = self.stored_value("geometry")
        if isinstance(geometry, QByteArray):  # Anything else was not written by Qt.
            self.restoreGeometry(geometry)
        # The model and the source are opened once the window is on screen, for a fast start.
        QTimer.singleShot(0, self.start)

    # ----- Building the window -----

    def build_widgets(self):
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet("background: #fff3cd; color: #5c4400; padding: 6px;")
        self.message.hide()
        self.video = QLabel("Starting...")
        self.video.setAlignment(Qt.AlignCenter)
        self.video.setMinimumSize(480, 360)
        self.video.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.video.setStyleSheet("background: #202020; color: #dddddd;")
        left = QVBoxLayout()
        left.addWidget(self.message)
        left.addWidget(self.video, 1)

        self.answer_label = QLabel("no garment")
        font = QFont()
        font.setPointSize(18)
        font.setBold(True)
        self.answer_label.setFont(font)
        self.bars = []
        self.class_labels = []  # "index name (count taught)" beside each bar; then "nothing".
        self.forget_class_buttons = []  # Beside each count: forget that class (then nothing).
        bars_layout = QFormLayout()
        bars_layout.setVerticalSpacing(2)
        for index in range(NOTHING + 1):
            self.class_labels.append(QLabel(class_label(index)))
            row = QHBoxLayout()
            if index < NOTHING:
                bar = QProgressBar()
                bar.setRange(0, 100)
                bar.setFormat("%p%")
                bar.setMaximumHeight(14)
                self.bars.append(bar)
                row.addWidget(bar, 1)
            else:
                row.addStretch(1)
            button = QToolButton()
            button.setText("x")
            button.setFocusPolicy(Qt.NoFocus)
            button.setToolTip(f"Forget the taught {class_name(index)} examples")
            button.setEnabled(False)
            button.clicked.connect(lambda _, index=index: self.forget_class_taught(index))
            self.forget_class_buttons.append(button)
            row.addWidget(button)
            bars_layout.addRow(self.class_labels[-1], row)
        self.mask_view = QLabel()
        self.mask_view.setFixedSize(128, 96)
        self.mask_view.setAlignment(Qt.AlignCenter)
        self.mask_view.setStyleSheet("background: black;")
        self.input_view = QLabel()
        self.input_view.setFixedSize(96, 96)
        self.input_view.setStyleSheet("background: black;")
        views = QHBoxLayout()
        for title, view in (("Mask", self.mask_view), ("Model input 28x28", self.input_view)):
            column = QVBoxLayout()
            column.addWidget(QLabel(title))
            column.addWidget(view)
            views.addLayout(column)

        answer_box = QGroupBox("Answer (smoothed)")
        answer_layout = QVBoxLayout(answer_box)
        answer_row = QHBoxLayout()
        answer_row.addWidget(self.answer_label, 1)
        answer_row.addWidget(self.build_teach_button())
        answer_layout.addLayout(answer_row)
        answer_layout.addLayout(bars_layout)
        answer_layout.addLayout(views)
        self.teach_status = QLabel("Teaching: starting...")
        self.teach_status.setWordWrap(True)
        self.forget_button = QPushButton("Forget taught examples")
        self.forget_button.setFocusPolicy(Qt.NoFocus)
        self.forget_button.clicked.connect(self.forget_taught)
        answer_layout.addWidget(self.teach_status)
        answer_layout.addWidget(self.forget_button)

        controls_box = QGroupBox("Controls")
        controls = QFormLayout(controls_box)
        controls.setVerticalSpacing(4)
        self.source_choice = QComboBox()
        for name, spec in list_cameras(self.cameras):
            self.source_choice.addItem(name, spec)
        self.source_choice.addItem("Demo clip", "demo")
        self.fixed_sources = self.source_choice.count()  # The cameras and the demo.
        self.source_choice.activated.connect(self.choose_source)
        open_file = QPushButton("Open file...")
        open_file.clicked.connect(self.open_file)
        open_folder = QPushButton("Open folder...")
        open_folder.clicked.connect(self.open_folder)
        source_row = QHBoxLayout()
        source_row.addWidget(self.source_choice, 1)
        source_row.addWidget(open_file)
        source_row.addWidget(open_folder)
        controls.addRow("Source", source_row)

        self.controls = {}  # Setting name -> its widget.
        checks = QHBoxLayout()
        for control in CONTROLS:
            widget = self.make_control(control)
            self.controls[control.name] = widget
            if control.kind == "check":
                checks.addWidget(widget)
            elif control.kind == "slider":
                controls.addRow(control.label, self.with_value(widget))
            else:
                controls.addRow(control.label, widget)
        controls.addRow(checks)

        self.pause_button = QPushButton("Pause (space)")
        self.pause_button.setCheckable(True)
        self.pause_button.toggled.connect(self.set_paused)
        snapshot_button = QPushButton("Snapshot (s)")
        snapshot_button.clicked.connect(self.snapshot)
        folder_button = QPushButton("Snapshot folder...")
        folder_button.clicked.connect(self.choose_snapshot_folder)
        buttons = QHBoxLayout()
        for button in (self.pause_button, snapshot_button, folder_button):
            button.setFocusPolicy(Qt.NoFocus)  # Space must pause, not press the focused button.
            buttons.addWidget(button)
        controls.addRow(buttons)

        right = QVBoxLayout()
        right.addWidget(answer_box)
        right.addWidget(controls_box)
        right.addStretch(1)
        central = QWidget()
        layout = QHBoxLayout(central)
        layout.addLayout(left, 1)
        layout.addLayout(right)
        self.setCentralWidget(central)
        self.statusBar().showMessage("Starting...")

        QShortcut(QKeySequence(Qt.Key_Space), self, self.pause_button.toggle)
        QShortcut(QKeySequence(Qt.Key_S), self, self.snapshot)
        QShortcut(QKeySequence(Qt.Key_Q), self, self.close)
        for index in range(len(CLASS_NAMES)):
            QShortcut(QKeySequence(Qt.Key_0 + index), self,
                      lambda index=index: self.teach_class(index))
        QShortcut(QKeySequence(Qt.Key_N), self, lambda: self.teach_class(NOTHING))
        self.build_teaching_menu()

    def build_teaching_menu(self):
        """The Teaching menu: undo (Ctrl+Z), the gallery, export, import, forget all."""
        menu = self.menuBar().addMenu("&Teaching")
        self.undo_action = menu.addAction("Undo the last taught example", self.undo_taught)
        self.undo_action.setShortcut(QKeySequence("Ctrl+Z"))
        self.gallery_action = menu.addAction("Show taught examples...", self.show_gallery)
        menu.addSeparator()
        self.export_action = menu.addAction("Export taught examples...",
                                            self.choose_export_file)
        self.import_action = menu.addAction("Import taught examples (.zip)...",
                                            self.choose_import_file)
        self.import_folder_action = menu.addAction("Import a taught folder...",
                                                   self.choose_import_folder)
        menu.addSeparator()
        self.forget_action = menu.addAction("Forget taught examples", self.forget_taught)

    def build_teach_button(self) -> QPushButton:
        """The "This is..." button: its menu teaches the garment in view as a class."""
        self.teach_button = QPushButton("This is...")
        self.teach_button.setFocusPolicy(Qt.NoFocus)
        menu = QMenu(self.teach_button)
        for index in range(NOTHING + 1):
            menu.addAction(class_label(index), lambda index=index: self.teach_class(index))
        self.teach_button.setMenu(menu)
        return self.teach_button

    def make_control(self, control):
        """The widget for one row of CONTROLS, connected to controls_changed."""
        if control.kind in ("slider", "spin"):
            widget = QSlider(Qt.Horizontal) if control.kind == "slider" else QSpinBox()
            widget.setRange(control.low, control.high)
            if control.kind == "slider":
                widget.setMinimumWidth(160)
            widget.valueChanged.connect(self.controls_changed)
        elif control.kind == "choice":
            widget = QComboBox()
            widget.addItems(control.choices)
            widget.currentIndexChanged.connect(self.controls_changed)
        else:
            widget = QCheckBox(control.label)
            widget.toggled.connect(self.controls_changed)
        if control.tooltip:
            widget.setToolTip(control.tooltip)
        return widget

    @staticmethod
    def with_value(slider: QSlider) -> QHBoxLayout:
        """The slider with a label that shows its value."""
        value = QLabel(str(slider.value()))
        value.setMinimumWidth(28)
        value.setAlignment(Qt.AlignRight | Qt.AlignVCenter)
        slider.valueChanged.connect(lambda number: value.setText(str(number)))
        row = QHBoxLayout()
        row.addWidget(slider, 1)
        row.addWidget(value)
        return row

    # ----- Settings: controls <-> FrameSettings <-> QSettings -----

    def show_settings(self, settings: FrameSettings):
        """Puts settings into the controls without sending them back through controls_changed."""
        self.showing_settings = True
        for control in CONTROLS:
            value = setting_of(settings, control.name)
            set_control_value(self.controls[control.name],
                              round(value * control.scale) if control.scale != 1 else value)
        self.showing_settings = False
        self.enable_hsv_sliders()

    def enable_hsv_sliders(self):
        """The HSV tolerances decide only when the background model is off (tolerance 0)."""
        background_model_off = self.controls["background_tolerance"].value() == 0
        for name in HSV_TOLERANCES:
            self.controls[name].setEnabled(background_model_off)

    def settings_from_controls(self) -> FrameSettings:
        values = {}
        for control in CONTROLS:
            value = control_value(self.controls[control.name])
            values[control.name] = value / control.scale if control.scale != 1 else value
        return with_settings(self.settings, values)

    def controls_changed(self, *_):
        if self.showing_settings:
            return
        self.enable_hsv_sliders()
        flip_changed = self.settings_from_controls().flip_averaging != \
            self.settings.flip_averaging
        self.settings = self.settings_from_controls()
        if self.worker is not None:
            self.worker.settings = self.settings
        if flip_changed and self.taught_loader is not None \
                and self.taught_loader.importing is not None:
            self.reload_taught = True  # Not while an import writes into the folder: after it.
        elif flip_changed and (self.taught is not None or self.taught_loader is not None):
            self.open_teaching()  # Embeddings are made with the flip setting: make them again.

    def load_settings(self) -> FrameSettings:
        """The settings saved by the last run, read value by value through the controls'
        ranges: a value missing, of the wrong kind or out of range keeps its default alone."""
        settings = FrameSettings()
        for control in CONTROLS:
            try:
                value = stored_setting(control, self.store.value(control.name))
                if value is not None:
                    settings = with_settings(settings, {control.name: value})
            except Exception:  # A value the configuration refuses, or a store Qt cannot read.
                continue
        return settings

    def stored_value(self, name: str):
        """A value of the settings file, or None when it is missing or Qt cannot read it."""
        try:
            return self.store.value(name)
        except Exception:  # A value of a type PyQt cannot convert.
            return None

    def save_settings(self):
        for control in CONTROLS:
            self.store.setValue(control.name, setting_of(self.settings, control.name))
        self.store.setValue("snapshot_folder", str(self.snapshot_folder))
        self.store.setValue("geometry", self.saveGeometry())
        self.store.sync()

    # ----- Model and sources -----

    def start(self):
        self.shown_seconds = time.perf_counter() - self.launched
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                self.predictor = load_predictor(self.model_path)
            except Exception as error:  # Whatever a model file makes LiteRT or Keras raise.
                self.show_message(f"The model could not be loaded: {fault_text(error)} "
                                  "Frames are still segmented, but not named.", "model")
        self.show_model_warnings(caught)
        self.open_teaching()
        self.set_source(self.requested_source, fall_back_to_demo=True)

    def show_model_warnings(self, caught):
        """Shows what a loaded model came without (its calibration, the detector of other
        garments) above the view, and passes every caught warning on as before (stderr)."""
        for warning in caught:
            warnings.warn_explicit(warning.message, warning.category, warning.filename,
                                   warning.lineno)
        texts = [str(warning.message) for warning in caught
                 if issubclass(warning.category, MODEL_WARNINGS)]
        if texts and self.predictor is not None:
            self.show_message("\n".join(texts), "model")

    def set_source(self, spec: str, fall_back_to_demo: bool = False) -> bool:
        """Switches to another source; on failure keeps the current one (or plays the demo)."""
        try:
            source = open_source(spec, loop=spec == "demo")
        except Exception as error:  # Whatever a camera or file makes OpenCV raise.
            if fall_back_to_demo and spec != "demo":
                self.show_message(f"{fault_text(error, spec)} Playing the demo instead.")
                return self.set_source("demo")
            self.show_message(fault_text(error, spec))
            self.show_current_source()
            return False
        self.stop_worker()
        self.source_name, self.source_spec = source.name, spec
        self.show_current_source()
        self.frame_times = []
        self.hide_message("skipped")
        self.worker = FrameWorker(source, self.predictor, self.settings, taught=self.taught)
        self.worker.paused = self.pause_button.isChecked()
        self.worker.result_ready.connect(self.show_result)
        self.worker.source_failed.connect(self.source_failed)
        self.worker.source_ended.connect(self.source_ended)
        self.worker.source_warning.connect(self.source_warning)
        self.worker.frame_failed.connect(self.frame_failed)
        self.worker.start()
        return True

    def show_current_source(self):
        """Selects the playing source in the source list; a file or folder gets its own entry."""
        fixed = self.fixed_sources
        while self.source_choice.count() > fixed:
            self.source_choice.removeItem(fixed)
        index = self.source_choice.findData(self.source_spec)
        if index < 0 and self.source_spec is not None:
            self.source_choice.addItem(self.source_name, self.source_spec)
            index = fixed
        self.source_choice.setCurrentIndex(index)

    def choose_source(self, index: int):
        spec = self.source_choice.itemData(index)
        already_playing = (spec == self.source_spec and self.worker is not None
                           and self.worker.isRunning())
        # Already playing: not opened again (a camera opened twice is busy), but chosen.
        if already_playing or self.set_source(spec):
            self.hide_message()

    def open_file(self):
        patterns = " ".join("*" + suffix for suffix in VIDEO_SUFFIXES + IMAGE_SUFFIXES)
        path, _ = QFileDialog.getOpenFileName(self, "Open a video or an image", str(Path.home()),
                                              f"Videos and images ({patterns});;All files (*)")
        if path and self.set_source(path):
            self.hide_message()

    def open_folder(self):
        path = QFileDialog.getExistingDirectory(self, "Open a folder of images", str(Path.home()))
        if path and self.set_source(path):
            self.hide_message()

    def from_current_worker(self) -> bool:
        """Whether the signal being handled comes from the playing worker, not from one that
        was replaced and is still ending."""
        return self.worker is not None and self.sender() is self.worker

    def source_failed(self, text: str):
        if not self.from_current_worker():
            return
        if self.source_spec == "demo":
            self.show_message(f"{text} The demo clip cannot be played either; open a file or "
                              "choose a camera.")
            return
        self.show_message(f"{text} Playing the demo instead; choose the source again to retry.")
        QTimer.singleShot(0, lambda: self.set_source("demo"))

    def source_ended(self):
        if self.from_current_worker():
            self.show_message(f"End of {self.source_name}. Open another file or choose a "
                              "source.")

    def source_warning(self, text: str):
        if self.from_current_worker():
            self.show_message(text, "skipped")

    def frame_failed(self, text: str):
        if self.from_current_worker():
            self.statusBar().showMessage(f"A frame could not be processed: {text}")

    def stop_worker(self, wait: bool = False):
        """Stops the worker; with wait, also waits for every worker still ending (on close)."""
        if self.worker is not None:
            if not self.worker.stop():
                self.ending_workers.append(self.worker)
            self.worker = None
        self.ending_workers = [worker for worker in self.ending_workers
                               if not (wait and worker.wait()) and worker.isRunning()]

    # ----- Showing results -----

    def show_result(self, result):
        if not self.from_current_worker():
            return  # A late result from a worker that was replaced.
        self.last_result = result
        self.video.setPixmap(to_pixmap(result.frame).scaled(
            self.video.size(), Qt.KeepAspectRatio, Qt.SmoothTransformation))
        self.mask_view.setPixmap(to_pixmap(result.segmentation.mask).scaled(
            self.mask_view.size(), Qt.KeepAspectRatio))
        self.input_view.setPixmap(to_pixmap(result.segmentation.model_input).scaled(
            self.input_view.size(), Qt.KeepAspectRatio, Qt.FastTransformation))
        answer = result.answer
        self.answer_label.setText(result.label)
        smoothed = answer.probabilities
        if smoothed is None:
            smoothed = np.zeros(len(CLASS_NAMES))
        for bar, probability in zip(self.bars, smoothed):
            bar.setValue(round(float(probability) * 100))
        now = time.perf_counter()
        self.frame_times = [t for t in self.frame_times if now - t < 2.0] + [now]
        frames_per_second = (len(self.frame_times) - 1) / max(now - self.frame_times[0], 1e-6)
        times = result.timings
        self.statusBar().showMessage(
            f"{self.source_name}  |  {frames_per_second:4.1f} FPS  |  "
            f"segmentation {times['segmentation']:.1f} ms, inference {times['inference']:.1f} ms, "
            f"overlay {times['overlay']:.1f} ms, total {times['total']:.1f} ms  |  "
            f"dropped {self.worker.frames_dropped}")
        self.worker.result_shown()
        if self.startup_seconds is None:
            self.startup_seconds = now - self.launched
            self.first_frame_shown.emit()

    def show_message(self, text: str, kind: str = "source"):
        """Shows a fault above the view until hide_message(kind); faults of other kinds stay."""
        self.messages[kind] = text
        self.message.setText("\n".join(self.messages.values()))
        self.message.show()

    def hide_message(self, kind: str = "source"):
        self.messages.pop(kind, None)
        self.message.setText("\n".join(self.messages.values()))
        self.message.setVisible(bool(self.messages))

    # ----- Actions -----

    def set_paused(self, paused: bool):
        if self.worker is not None:
            self.worker.paused = paused
        self.pause_button.setText("Resume (space)" if paused else "Pause (space)")

    def snapshot(self) -> list[Path]:
        if self.last_result is None:
            self.statusBar().showMessage("Nothing to save yet.")
            return []
        try:
            paths = save_snapshot(self.last_result, self.snapshot_folder)
        except OSError as error:
            self.show_message(f"The snapshot could not be saved: {error}", "snapshot")
            return []
        self.hide_message("snapshot")
        self.statusBar().showMessage(
            f"Snapshot saved in {self.snapshot_folder} ({paths[0].name}, ...)")
        return paths

    # ----- Teaching -----

    def open_teaching(self, importing=None):
        """Starts loading the taught examples on a TaughtLoader thread, with progress shown;
        teaching waits meanwhile. Without a model, or with one that gives no embedding,
        teaching is off at once, saying why. importing: a .zip or folder merged in first."""
        self.stop_taught_loader()
        if getattr(self.predictor, "embedding_size", None) is None:
            self.show_taught(*open_taught(self.taught_folder, self.predictor, self.settings))
            return
        self.set_taught(None, f"Importing {importing}..." if importing
                        else "Loading the taught examples...")
        # A child of the window, so that the thread object lives until it has ended.
        self.taught_loader = TaughtLoader(self.taught_folder,
                                          lambda: load_predictor(self.model_path), self.settings,
                                          parent=self, importing=importing)
        self.taught_loader.finished.connect(self.taught_loader.deleteLater)
        self.taught_loader.progress.connect(self.show_taught_progress)
        self.taught_loader.loaded.connect(self.taught_loaded)
        self.taught_loader.start()

    def stop_taught_loader(self, wait: bool = False):
        """Asks the loader at work to stop (what it still sends is ignored); with wait, waits
        until every loader has ended (before the window closes)."""
        if self.taught_loader is not None:
            self.taught_loader.request_stop()
            self.taught_loader = None
        if wait:
            for loader in self.findChildren(TaughtLoader):
                loader.wait()

    def show_taught_progress(self, done: int, total: int):
        if self.sender() is self.taught_loader:
            self.teach_status.setText(f"Loading the taught examples: {done} of {total} "
                                      "files read...")

    def taught_loaded(self, taught, note: str):
        """The TaughtLoader's result (ignored when a newer loader replaced it)."""
        if self.sender() is not self.taught_loader:
            return
        self.taught_loader = None
        self.show_taught(taught, note)
        if self.reload_taught:  # The flip setting changed during an import.
            self.reload_taught = False
            self.open_teaching()

    def show_taught(self, taught, note: str):
        """Uses loaded taught examples (None: teaching off) and shows the note: the files
        skipped above the view, or why teaching is off beside the classes."""
        if taught is not None and note:
            self.show_message(note, "teaching")  # Files skipped.
        self.set_taught(taught, note if taught is None else "")

    def set_taught(self, taught, note: str = ""):
        """Hands the taught examples to the worker (one assignment) and shows their counts,
        with a note (what was taught, or why teaching is off) above the instructions."""
        self.taught = taught
        if self.worker is not None:
            self.worker.taught = taught
        enabled = taught is not None
        for index, label in enumerate(self.class_labels):
            count = taught_count(taught, index) if enabled else 0
            label.setText(class_label(index, count))
            self.forget_class_buttons[index].setEnabled(count > 0)
        self.teach_button.setEnabled(enabled)
        self.forget_button.setEnabled(enabled and len(taught) > 0)
        for action in (self.undo_action, self.gallery_action, self.export_action,
                       self.import_action, self.import_folder_action):
            action.setEnabled(enabled)
        self.forget_action.setEnabled(enabled and len(taught) > 0)
        instructions = (f"Keys 0-9 or \"This is...\" teach the garment in view, n that "
                        f"there is none; Ctrl+Z undoes ({len(taught)} taught, in "
                        f"{self.taught_folder}).") if enabled else ""
        self.teach_status.setText("\n".join(text for text in (note, instructions) if text))
        if self.gallery is not None and self.gallery.isVisible():
            self.gallery.set_entries(gallery_entries(taught) if enabled else [])

    def teach_class(self, class_index: int):
        """Teaches the garment in view as class_index (keys 0-9, the "This is..." menu)."""
        if self.taught is None:
            self.show_message(self.teach_status.text(), "teaching")
            return
        try:
            taught, note = teach(self.taught_folder, self.taught, self.last_result, class_index,
                                 self.predictor, self.settings)
        except ValueError as error:
            self.set_taught(self.taught, str(error))
            return
        except OSError as error:
            self.show_message(f"The example could not be saved in {self.taught_folder}: "
                              f"{error}. Check that the folder is writable.", "teaching")
            return
        self.hide_message("teaching")
        self.taught_this_session.append(taught.sources[-1])
        self.set_taught(taught, note)

    def undo_taught(self):
        """Removes the last example taught in this session that is still there (Ctrl+Z);
        repeated, goes further back. The status bar says what was undone."""
        if self.taught is None:
            return
        present = set(self.taught.sources)
        while self.taught_this_session and self.taught_this_session[-1] not in present:
            self.taught_this_session.pop()  # Deleted or forgotten meanwhile.
        if not self.taught_this_session:
            self.statusBar().showMessage("Nothing to undo: no example taught in this session "
                                         "is left.", 5000)
            return
        path = self.taught_this_session[-1]
        try:
            taught, note = remove_example(self.taught, path, "Undone")
        except OSError as error:
            self.show_message(f"The example could not be removed: {error}", "teaching")
            return
        self.taught_this_session.pop()
        self.set_taught(taught, note)
        self.statusBar().showMessage(note, 5000)

    def delete_taught(self, path: str):
        """Deletes one taught example (the gallery's delete)."""
        if self.taught is None:
            return
        try:
            taught, note = remove_example(self.taught, path)
        except OSError as error:
            self.show_message(f"The example could not be removed: {error}", "teaching")
            return
        self.set_taught(taught, note)
        self.statusBar().showMessage(note, 5000)

    def show_gallery(self):
        """Opens the gallery of taught examples (not modal: frames go on)."""
        if self.taught is None:
            return
        if self.gallery is None:
            self.gallery = TaughtGallery(self)
            self.gallery.delete_requested.connect(self.delete_taught)
        self.gallery.set_entries(gallery_entries(self.taught))
        self.gallery.show()
        self.gallery.raise_()

    def forget_class_taught(self, class_index: int):
        """Removes the taught examples of one class, after a confirmation."""
        if self.taught is None:
            return
        count = taught_count(self.taught, class_index)
        answer = QMessageBox.question(
            self, "Forget a class",
            f"Forget the {count} taught {class_name(class_index)} example(s)? Their files in "
            f"{self.taught_folder} are removed; the other classes stay.",
            QMessageBox.Yes | QMessageBox.No, QMessageBox.No)
        if answer != QMessageBox.Yes:
            return
        try:
            taught, note = forget_one_class(self.taught_folder, self.taught, class_index)
        except OSError as error:
            self.show_message(f"The taught examples could not be removed: {error}", "teaching")
            return
        self.set_taught(taught, note)

    def choose_export_file(self):
        path, _ = QFileDialog.getSaveFileName(self, "Export taught examples",
                                              str(Path.home() / "taught.zip"),
                                              "Zip files (*.zip)")
        if path:
            self.export_taught(path if path.lower().endswith(".zip") else path + ".zip")

    def export_taught(self, path) -> bool:
        """Writes the taught folder as one .zip; says so, or why not."""
        try:
            note = export(self.taught_folder, path)
        except (ValueError, OSError) as error:
            self.show_message(f"The taught examples could not be exported: {error}",
                              "teaching")
            return False
        self.hide_message("teaching")
        self.statusBar().showMessage(note, 5000)
        return True

    def choose_import_file(self):
        path, _ = QFileDialog.getOpenFileName(self, "Import taught examples", str(Path.home()),
                                              "Zip files (*.zip);;All files (*)")
        if path:
            self.import_taught(path)

    def choose_import_folder(self):
        path = QFileDialog.getExistingDirectory(self, "Import a taught folder",
                                                str(Path.home()))
        if path:
            self.import_taught(path)

    def import_taught(self, source):
        """Merges a .zip or folder into the taught folder and loads it again, on a
        TaughtLoader thread (examples of another model are embedded again there)."""
        if self.taught is not None:
            self.open_teaching(importing=source)

    def forget_taught(self):
        """Removes every taught example, after a confirmation."""
        if not self.taught:
            return
        answer = QMessageBox.question(
            self, "Forget taught examples",
            f"Forget all {len(self.taught)} taught examples? Their files in "
            f"{self.taught_folder} are removed.", QMessageBox.Yes | QMessageBox.No,
            QMessageBox.No)
        if answer != QMessageBox.Yes:
            return
        try:
            taught, note = forget(self.taught_folder, self.taught)
        except OSError as error:
            self.show_message(f"The taught examples could not be removed: {error}", "teaching")
            return
        self.set_taught(taught, note)

    def choose_snapshot_folder(self):
        path = QFileDialog.getExistingDirectory(self, "Folder for snapshots",
                                                str(self.snapshot_folder))
        if path:
            self.snapshot_folder = Path(path)

    def closeEvent(self, event):
        self.stop_taught_loader(wait=True)
        self.stop_worker(wait=True)
        self.save_settings()
        super().closeEvent(event)

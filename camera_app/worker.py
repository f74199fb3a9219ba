"""The threads of the app, thin Qt shells: FrameWorker reads frames and runs process_frame;
TaughtLoader loads and embeds the taught examples, so that the GUI thread only draws.

The workers never touch widgets. It emits each FrameResult through a signal, drops frames
while the window is still showing the previous one, and stops when asked through a flag.
"""

from __future__ import annotations

import dataclasses
import threading
import time

from PyQt5.QtCore import QThread, pyqtSignal

from camera_app.answer import SteadyAnswer, carried_over
from camera_app.frame import FrameSettings, process_frame
from camera_app.sources import SourceError
from camera_app.teaching import import_and_open, open_taught


class FrameWorker(QThread):
    """Reads a source, processes frames and emits results until stopped or the source ends."""

    # A FrameResult, ready to be shown.
    result_ready = pyqtSignal(object)
    # The source failed (camera gone, unreadable file): a message for the user.
    source_failed = pyqtSignal(str)
    # The source left something out (unreadable images in a slideshow): a message.
    source_warning = pyqtSignal(str)
    # A video or slideshow reached its end.
    source_ended = pyqtSignal()
    # Processing one frame raised: a message; the worker goes on with the next frame.
    frame_failed = pyqtSignal(str)

    def __init__(self, source, predictor, settings: FrameSettings, parent=None, taught=None):
        super().__init__(parent)
        self.source = source
        self.predictor = predictor
        # Replaced (never mutated) by the GUI thread; the worker reads it once per frame.
        self.settings = settings
        # The taught examples (TaughtExamples), or None when teaching is off. Like settings,
        # replaced whole by the GUI thread (TaughtExamples.with_example), never mutated.
        self.taught = taught
        self.paused = False
        self.frames_dropped = 0
        self._stop_requested = threading.Event()
        # Set while the window has a result it has not shown yet; new results are dropped then.
        self._window_busy = threading.Event()

    def stop(self, timeout_ms: int = 3000) -> bool:
        """Asks the loop to end and waits for it; returns whether the thread has finished."""
        self._stop_requested.set()
        return self.wait(timeout_ms)

    def result_shown(self):
        """Called by the window once it has drawn a result, so the next one may be sent."""
        self._window_busy.clear()

    def run(self):
        answer = SteadyAnswer()
        last_frame = None
        last_settings = None
        last_taught = None
        frame_number = 0
        warning = None
        next_frame_time = time.perf_counter()
        try:
            while not self._stop_requested.is_set():
                settings, taught = self.settings, self.taught
                if self.paused:
                    # While paused, the last frame is processed again when a control changes
                    # or a garment is taught.
                    if last_frame is None or (settings is last_settings and taught is last_taught):
                        time.sleep(0.02)
                        continue
                    frame = last_frame
                else:
                    frame = self.source.read()
                    if getattr(self.source, "warning", None) not in (None, warning):
                        warning = self.source.warning
                        self.source_warning.emit(warning)
                    if frame is None:
                        self.source_ended.emit()
                        return
                    frame_number += 1
                    # Reset when read, so that a dropped first frame of a scene still resets.
                    answer = carried_over(answer, getattr(self.source, "new_scene", False))
                last_frame, last_settings, last_taught = frame, settings, taught
                if self._window_busy.is_set() and not self.paused:
                    self.frames_dropped += 1
                else:
                    try:
                        result = process_frame(frame, self.predictor, settings, answer, taught)
                    except Exception as error:  # One bad frame must not end the stream.
                        self.frame_failed.emit(f"{type(error).__name__}: {error}")
                    else:
                        answer = result.answer
                        self._window_busy.set()
                        self.result_ready.emit(dataclasses.replace(result,
                                                                   frame_number=frame_number))
                # Files play at their own frame rate; cameras pace themselves in read().
                next_frame_time += self.source.frame_interval
                delay = next_frame_time - time.perf_counter()
                if delay > 0:
                    self._stop_requested.wait(delay)
                else:
                    next_frame_time = time.perf_counter()
        except SourceError as error:
            self.source_failed.emit(str(error))
        except Exception as error:  # Whatever else a camera or file makes OpenCV raise.
            self.source_failed.emit(f"{getattr(self.source, 'name', 'The source')} stopped: "
                                    f"{type(error).__name__}: {error}.")
        finally:
            self.source.release()


class LoadCancelled(Exception):
    """Raised inside load_taught's progress callback when the loader is asked to stop."""


class TaughtLoader(QThread):
    """Loads and embeds the taught examples off the GUI thread, with progress.

    It makes its own predictor (make_predictor()), since the frame worker's must not be used
    from two threads, and calls open_taught(folder, predictor, settings, progress); given
    importing (a .zip or folder), import_and_open, which merges it into the folder first.
    """

    # Files read so far and files in all: progress for the window.
    progress = pyqtSignal(int, int)
    # The TaughtExamples (None when teaching is off) and a message for the user.
    loaded = pyqtSignal(object, str)

    def __init__(self, folder, make_predictor, settings: FrameSettings, parent=None,
                 importing=None):
        super().__init__(parent)
        self.folder = folder
        self.importing = importing  # A .zip or folder to merge in first, or None.
        self.make_predictor = make_predictor
        self.settings = settings
        self._stop_requested = threading.Event()

    def request_stop(self):
        """Asks the loading to end at the next file; it then sends nothing more."""
        self._stop_requested.set()

    def report(self, done: int, total: int):
        if self._stop_requested.is_set():
            raise LoadCancelled
        self.progress.emit(done, total)

    def run(self):
        try:
            if self.importing is not None:
                taught, note = import_and_open(self.importing, self.folder,
                                               self.make_predictor(), self.settings,
                                               progress=self.report)
            else:
                taught, note = open_taught(self.folder, self.make_predictor(), self.settings,
                                           progress=self.report)
        except LoadCancelled:
            return
        except Exception as error:  # A model or folder fault must not end the app.
            taught, note = None, (f"Teaching is off: the taught examples in {self.folder} "
                                  f"could not be loaded ({type(error).__name__}: {error}).")
        self.loaded.emit(taught, note)

"""Where frames come from: a camera, a video file, a folder of images, or the demo clip.

Every source has the same small interface, like the sources in OpenCV's samples:

    source = open_source("demo")        # or 0, "clip.mp4", "photos/"
    frame = source.read()               # uint8 BGR frame, or None at the end of a video
    source.release()

read() raises SourceError when a camera stops delivering frames or a file cannot be decoded.
After read(), source.new_scene tells whether the frame starts a new scene (a new image of a
slideshow, a video back at its start), so that the answer does not carry over from the last;
source.warning, when not None, says what a slideshow left out (unreadable images).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import cv2
import numpy as np

from model.paths import DEMO_VIDEO
from segmentation.images import IMAGE_SUFFIXES, ImageReadError, list_images, read_image


VIDEO4LINUX = Path("/sys/class/video4linux")  # Where Linux lists its video devices.


class SourceError(RuntimeError):
    """A source cannot be opened, or stopped delivering frames."""


class CameraSource:
    """A webcam by index; read() blocks until the camera delivers the next frame."""

    frame_interval = 0.0  # Seconds to wait between frames (the camera paces itself).
    new_scene = False  # A camera's frames follow each other.

    def __init__(self, index: int):
        self.name = f"camera {index}"
        self.capture = cv2.VideoCapture(index)
        if not self.capture.isOpened():
            self.capture.release()
            raise SourceError(f"Camera {index} could not be opened. Check that it is plugged in "
                              "and not used by another program, or choose another source.")

    def read(self) -> np.ndarray:
        ok, frame = self.capture.read()
        if not ok or frame is None:
            raise SourceError(f"{self.name.capitalize()} stopped delivering frames "
                              "(unplugged or taken by another program).")
        return frame

    def release(self):
        self.capture.release()


class VideoSource:
    """A video file, played once or in a loop at its own frame rate."""

    def __init__(self, path: str | os.PathLike, loop: bool = False):
        self.path = Path(path)
        self.name = self.path.name
        self.loop = loop
        if not self.path.is_file():
            raise SourceError(f"Video file {self.path} does not exist.")
        self.capture = cv2.VideoCapture(str(self.path))
        if not self.capture.isOpened():
            self.capture.release()
            raise SourceError(f"{self.path} could not be opened as a video. "
                              "Choose a video file (.mp4, .avi, ...) or a folder of images.")
        frames_per_second = self.capture.get(cv2.CAP_PROP_FPS)
        self.frame_interval = 1.0 / frames_per_second if 1 <= frames_per_second <= 240 else 1 / 30
        self.frames_read = 0
        self.new_scene = True  # The first frame, or the first after a jump back to the start.

    def read(self) -> np.ndarray | None:
        ok, frame = self.capture.read()
        self.new_scene = self.frames_read == 0
        if not ok and self.loop and self.frames_read > 0:
            self.capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
            ok, frame = self.capture.read()
            self.new_scene = True
        if not ok:
            if self.frames_read == 0:
                raise SourceError(f"{self.path} holds no frames that can be decoded.")
            return None
        self.frames_read += 1
        return frame

    def release(self):
        self.capture.release()


SECONDS_PER_IMAGE = 2.0  # How long a slideshow shows each image.


class FolderSource:
    """The images in a folder (or one image file) shown as a slideshow.

    An unreadable image in a folder is left out and named in warning; a single image file
    that cannot be read is refused when the source is opened.
    """

    new_scene = True  # Every image is a new scene.

    def __init__(self, path: str | os.PathLike, seconds_per_image: float | None = None,
                 loop: bool = True):
        self.path = Path(path)
        self.name = self.path.name
        self.loop = loop
        self.frame_interval = SECONDS_PER_IMAGE if seconds_per_image is None \
            else seconds_per_image
        if self.path.is_dir():
            self.files = list_images(self.path)
        else:
            self.files = [self.path]
        if not self.files:
            raise SourceError(f"Folder {self.path} holds no images ({', '.join(IMAGE_SUFFIXES)}).")
        self.position = 0
        self.skipped = []  # Files that could not be read, reported and left out.
        self.reasons = []  # Why each of them could not be read.
        if not self.path.is_dir():
            try:
                read_image(self.path)
            except ImageReadError as error:
                raise SourceError(f"{error}. Choose another image or a folder.") from error

    def read(self) -> np.ndarray | None:
        while self.files:
            if self.position >= len(self.files):
                if not self.loop:
                    return None
                self.position = 0
            file = self.files[self.position]
            try:
                frame = read_image(file)
            except ImageReadError as error:
                # One unreadable image is left out; the rest of the slideshow goes on.
                self.skipped.append(file)
                self.reasons.append(str(error))
                del self.files[self.position]
                continue
            self.position += 1
            return frame
        raise SourceError(f"None of the {len(self.skipped)} images in {self.path} could be read: "
                          f"{'; '.join(self.reasons)}.")

    @property
    def warning(self) -> str | None:
        """The images left out so far and why, for the user; None when there are none."""
        if not self.skipped:
            return None
        return (f"Left out of the slideshow of {self.name} ({len(self.skipped)} of "
                f"{len(self.skipped) + len(self.files)} images): {'; '.join(self.reasons)}.")

    def release(self):
        pass


def list_cameras(cameras=None) -> list[tuple[str, str]]:
    """(name shown, spec for open_source) of each camera that exists, in the system's order.

    cameras: (device name, description) pairs as QCameraInfo gives them (deviceName(),
    description()); None asks the system (system_cameras). A Linux device /dev/videoN is
    OpenCV's camera N; elsewhere a camera's index is its place in the list.
    """
    cameras = system_cameras() if cameras is None else cameras
    choices = []
    for position, (device, description) in enumerate(cameras):
        match = re.fullmatch(r"/dev/video(\d+)", str(device))
        index = match.group(1) if match else str(position)
        choices.append((f"{description or 'Camera'} (camera {index})", index))
    return choices


def system_cameras() -> list[tuple[str, str]]:
    """(device name, description) of the cameras Qt Multimedia finds; where it finds none
    or cannot be loaded (e.g. PulseAudio's or GStreamer's libraries are missing), the Linux
    capture devices listed in /sys/class/video4linux. Never raises: none is an empty list."""
    try:
        from PyQt5.QtMultimedia import QCameraInfo

        found = [(info.deviceName(), info.description())
                 for info in QCameraInfo.availableCameras()]
        if found:
            return found
    except Exception:  # An ImportError for a missing library, or a backend fault.
        pass
    found = []
    for folder in sorted(VIDEO4LINUX.glob("video*"),
                         key=lambda path: int(re.sub(r"\D", "", path.name) or 0)):
        try:
            if (folder / "index").read_text().strip() != "0":
                continue  # A second node of one camera (metadata), not a camera of its own.
            found.append((f"/dev/{folder.name}", (folder / "name").read_text().strip()))
        except OSError:
            continue
    return found


def open_source(spec: str | int, loop: bool = True):
    """Opens a source from a camera index, "demo", a video file, an image file or a folder.

    Raises SourceError with a message for the user when it cannot be opened.
    """
    spec = str(spec).strip()
    if spec.isdigit():
        return CameraSource(int(spec))
    if spec == "demo":
        if not DEMO_VIDEO.is_file():
            raise SourceError(f"The demo clip {DEMO_VIDEO} is missing; "
                              "make it with `python -m camera_app.make_demo`.")
        return VideoSource(DEMO_VIDEO, loop=loop)
    path = Path(spec).expanduser()
    if path.is_dir() or path.suffix.lower() in IMAGE_SUFFIXES:
        if not path.exists():
            raise SourceError(f"Image file {path} does not exist.")
        return FolderSource(path, loop=loop)
    return VideoSource(path, loop=loop)

"""FashionCam: hold a garment up to the webcam and read what it is.

    python -m camera_app                       # default camera (plays the demo if there is none)
    python -m camera_app --source demo         # the demo clip that ships in assets/
    python -m camera_app --source clip.mp4     # a video file
    python -m camera_app --source photos/      # a folder of images, as a slideshow
    python -m camera_app --source 1 --mirror   # another camera, shown as a mirror
    python -m camera_app --model my.tflite     # another LiteRT model
    python -m camera_app --taught DIR          # keep taught examples in DIR

Keys: space pauses, s saves a snapshot, q quits, 0-9 teach the garment in view as that class
(the "This is..." button does the same; the window lists the classes with their keys).
Taught examples are kept in the app's data folder unless --taught says otherwise.
Hold the garment so that it covers the small square in the middle of the view and fills much
of the larger one: the garment is cut out around the small square.
"""

import time

LAUNCHED = time.perf_counter()  # Taken before the heavy imports, for the start-up figure.

import argparse  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402

from PyQt5.QtCore import QTimer  # noqa: E402
from PyQt5.QtWidgets import QApplication  # noqa: E402

from camera_app.window import MainWindow  # noqa: E402
from segmentation.command import INTERRUPTED, run_command  # noqa: E402


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(prog="python -m camera_app", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", default="0",
                        help="camera index, video file, image folder or 'demo' (default: 0)")
    parser.add_argument("--model", default=None,
                        help="a .tflite model (default: the shipped assets/fashion_cnn.tflite)")
    parser.add_argument("--mirror", action=argparse.BooleanOptionalAction, default=None,
                        help="flip the view left to right (default: as last time)")
    parser.add_argument("--taught", default=None, metavar="DIR",
                        help="folder of taught examples (default: 'taught' in the app's data "
                             "folder)")
    parser.add_argument("--startup-time", action="store_true",
                        help="print the seconds from launch to the first shown frame, then quit")
    return parser.parse_args(argv)


def stop_on_ctrl_c(application, window) -> None:
    """Ctrl-C in the terminal closes the window (settings are saved) and ends the app with
    status 130 and one line, as every command ends (segmentation.command). Qt's event loop
    runs in C++, so a timer lets Python see the signal."""
    def interrupted(*_):
        print("Interrupted (Ctrl-C).", file=sys.stderr, flush=True)
        window.close()
        application.exit(INTERRUPTED)

    signal.signal(signal.SIGINT, interrupted)
    window.ctrl_c_timer = QTimer(window)
    window.ctrl_c_timer.timeout.connect(lambda: None)
    window.ctrl_c_timer.start(200)


def main(argv=None) -> int:
    arguments = parse_arguments(argv)
    application = QApplication.instance() or QApplication(sys.argv[:1])
    application.setOrganizationName("FashionCam")
    application.setApplicationName("FashionCam")
    window = MainWindow(source=arguments.source, model_path=arguments.model,
                        mirror=arguments.mirror, launched=LAUNCHED,
                        taught_folder=arguments.taught)
    window.show()
    stop_on_ctrl_c(application, window)
    if arguments.startup_time:
        def report():
            print(f"Window shown after {window.shown_seconds:.3f} s, first frame shown after "
                  f"{window.startup_seconds:.3f} s (from the start of camera_app.__main__).")
            window.close()
        window.first_frame_shown.connect(report)
    return application.exec_()


if __name__ == "__main__":
    raise SystemExit(run_command(main))

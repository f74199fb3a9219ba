"""How long the GUI thread stalls while the gallery of taught examples fills in (issue 31).

    python experiments/taught_gallery_responsiveness.py --examples 1000 --folder /tmp/gallery1000
    python experiments/taught_gallery_responsiveness.py ... --all-at-once   # the pictures in one go

Makes --examples taught examples with a 640x480 JPEG crop each (random inputs and crops,
embeddings saved with the shipped model), opens the window offscreen on the demo clip, waits
until the examples are in use, then measures two periods of the same length on the GUI thread
with a 5 ms timer: one with the window alone, one from opening the gallery until its last
picture is read. Printed per period: the longest gap between two ticks (the time the window
could not redraw or take a key) and the frames shown. --all-at-once reads every picture in
one turn of the event loop (camera_app.gallery.PICTURE_MILLISECONDS made endless), to compare.
"""

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def make_examples(folder: Path, count: int) -> None:
    import numpy as np

    from model.predictor import load_predictor
    from model.taught import embed, save_example

    predictor = load_predictor()
    random = np.random.default_rng(0)
    inputs = random.integers(0, 256, (count, 28, 28), dtype=np.uint8)
    embeddings = embed(predictor, inputs, True)[1]
    crop = random.integers(0, 256, (480, 640, 3), dtype=np.uint8)
    for index in range(count):
        save_example(folder, index % 10, inputs[index], np.roll(crop, index, axis=1),
                     embeddings[index], predictor, True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=1000)
    parser.add_argument("--folder", type=Path, required=True)
    parser.add_argument("--all-at-once", action="store_true")
    arguments = parser.parse_args()
    if not arguments.folder.exists():
        make_examples(arguments.folder, arguments.examples)
    from PyQt5.QtCore import QSettings, QTimer
    from PyQt5.QtWidgets import QApplication

    from camera_app import gallery
    from camera_app.window import MainWindow

    if arguments.all_at_once:
        gallery.PICTURE_MILLISECONDS = float("inf")
    application = QApplication(sys.argv[:1])
    store = QSettings(str(arguments.folder.parent / "gallery-responsiveness.ini"),
                      QSettings.IniFormat)
    window = MainWindow(source="demo", settings_store=store, taught_folder=arguments.folder)
    ticks, shown = [], []
    window.show()
    state = {"phase": "loading"}

    def tick():
        now = time.perf_counter()
        ticks.append((now, state["phase"]))
        if window.last_result is not None and (not shown or shown[-1][1] is not window.last_result):
            shown.append((state["phase"], window.last_result))
        if state["phase"] == "loading" and window.taught is not None and len(window.taught) \
                and window.last_result is not None:
            state.update(phase="alone", since=now)
        elif state["phase"] == "alone" and now - state["since"] > 2.0:
            state.update(phase="gallery", since=now)
            window.show_gallery()
        elif state["phase"] == "gallery" and not window.gallery.waiting:
            state.update(phase="done", filled=now - state["since"])
            application.quit()
        elif now - ticks[0][0] > 120:
            application.quit()

    timer = QTimer()
    timer.timeout.connect(tick)
    timer.start(5)
    application.exec_()
    for phase in ("alone", "gallery"):
        times = [moment for moment, name in ticks if name == phase]
        gaps = [later - earlier for earlier, later in zip(times, times[1:])]
        frames = sum(name == phase for name, _ in shown)
        print(f"{phase:<8} {times[-1] - times[0]:6.2f} s: longest GUI stall "
              f"{max(gaps) * 1000:5.0f} ms, {frames} frames shown")
    print(f"{len(window.taught)} examples; gallery filled in {state.get('filled', float('nan')):.2f} s"
          f"{' (all at once)' if arguments.all_at_once else ''}")
    window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

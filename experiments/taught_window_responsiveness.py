"""How long the app's GUI thread stalls at start with many taught examples (issue 27 item 5).

    python experiments/taught_window_responsiveness.py --examples 3000 --folder /tmp/taught3000
    QT_QPA_PLATFORM=offscreen python experiments/taught_window_responsiveness.py ...

Makes --examples taught examples (random 28x28 inputs, their embeddings saved with the shipped
model, or with --stale none saved, so that loading embeds them all), opens the window on the
demo clip offscreen, and prints: seconds to the first shown frame, seconds until the taught
examples are in use, and the longest gap between two ticks of a 5 ms timer on the GUI thread
from launch until both have happened (the time the window could not redraw or take a key).
"""

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def make_examples(folder: Path, count: int, stale: bool) -> None:
    import numpy as np

    from model.predictor import load_predictor
    from model.taught import embed, save_example

    predictor = load_predictor()
    random = np.random.default_rng(0)
    inputs = random.integers(0, 256, (count, 28, 28), dtype=np.uint8)
    embeddings = embed(predictor, inputs, True)[1]
    for index in range(count):
        save_example(folder, index % 10, inputs[index], None,
                     None if stale else embeddings[index], predictor, True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=3000)
    parser.add_argument("--folder", type=Path, required=True)
    parser.add_argument("--stale", action="store_true", help="save no embeddings")
    arguments = parser.parse_args()
    if not arguments.folder.exists():
        make_examples(arguments.folder, arguments.examples, arguments.stale)
    from PyQt5.QtCore import QSettings, QTimer
    from PyQt5.QtWidgets import QApplication

    from camera_app.window import MainWindow

    application = QApplication(sys.argv[:1])
    store = QSettings(str(arguments.folder.parent / "responsiveness.ini"), QSettings.IniFormat)
    launched = time.perf_counter()
    ticks = [launched]
    window = MainWindow(source="demo", settings_store=store, launched=launched,
                        taught_folder=arguments.folder)
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start(5)
    window.show()
    done = {}

    def check():
        now = time.perf_counter()
        if window.startup_seconds is not None:
            done.setdefault("frame", window.startup_seconds)
        if window.taught is not None and len(window.taught):
            done.setdefault("taught", now - launched)
        if len(done) == 2 or now - launched > 60:
            application.quit()

    checker = QTimer()
    checker.timeout.connect(check)
    checker.start(5)
    application.exec_()
    gaps = [later - earlier for earlier, later in zip(ticks, ticks[1:])]
    print(f"{arguments.examples} taught examples ({'none' if arguments.stale else 'all'} "
          f"embeddings saved): first frame {done.get('frame', float('nan')):.2f} s, taught "
          f"examples in use {done.get('taught', float('nan')):.2f} s, longest GUI stall "
          f"{max(gaps) * 1000:.0f} ms ({len(window.taught or [])} loaded)")
    window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

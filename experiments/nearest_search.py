"""Milliseconds per frame of the nearest-taught-example search with 3,000 examples: the rule as
model.taught runs it (numpy's einsum, one thread) against a BLAS matrix product (what it ran
before, 2026-12-05) and a BLAS product limited to one thread by threadpoolctl, taking turns.

    python experiments/nearest_search.py [--examples 3000] [--width 256] [--frames 2000]

Run it while the other core is busy (a training run, or `python -c "while True: pass" &`):
OpenBLAS then spreads one small product over both cores, and its threads wait for each other.
"""

import argparse
import time

import numpy as np

from model.taught import TaughtExamples, normalise


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=3000)
    parser.add_argument("--width", type=int, default=256, help="embedding width")
    parser.add_argument("--frames", type=int, default=2000)
    arguments = parser.parse_args()
    random = np.random.default_rng(0)
    taught = TaughtExamples.from_embeddings(
        random.standard_normal((arguments.examples, arguments.width)),
        random.integers(0, 10, arguments.examples))

    def blas(embedding):
        similarities = normalise(embedding) @ taught.embeddings.T
        return similarities.argmax(axis=1)

    ways = {"model.taught (einsum)": taught.nearest, "BLAS product (before)": blas}
    try:
        from threadpoolctl import threadpool_limits

        def one_thread(embedding):
            with threadpool_limits(1, "blas"):
                return blas(embedding)
        ways["BLAS, threadpoolctl 1"] = one_thread
    except ImportError:
        pass
    times = {name: [] for name in ways}
    for _ in range(arguments.frames):
        embedding = random.standard_normal((1, arguments.width)).astype(np.float32)
        for name, way in ways.items():
            started = time.perf_counter()
            way(embedding)
            times[name].append((time.perf_counter() - started) * 1000)
    print(f"{arguments.examples} examples of width {arguments.width}, {arguments.frames} frames "
          "each, taking turns; ms per frame: median (10th-90th percentile)")
    for name, values in times.items():
        values = np.array(values[len(values) // 20:])  # Without the first 5% (warm-up).
        print(f"  {name:24s} {np.median(values):7.3f} ({np.percentile(values, 10):.3f}-"
              f"{np.percentile(values, 90):.3f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

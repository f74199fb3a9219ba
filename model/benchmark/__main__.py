"""Speed of the CNN on this CPU, every variant measured side by side, interleaved and repeated.

    python -m model.benchmark --quick          # a few steps of everything, one round (1-2 minutes)
    python -m model.benchmark                  # the full run: 5 rounds (about 10 minutes)
    make benchmark                             # this and the Intel environment: docs/benchmark.md
    python -m model.benchmark --also-python .venv-intel/bin/python \\
        --json docs/benchmark.json --markdown docs/benchmark.md    # both environments, one table
    python -m model.benchmark --from-json docs/benchmark.json --markdown docs/benchmark.md

Rows: training throughput (images/s) of the shipped architecture in fp32 with oneDNN (TensorFlow's
default), fp32 with oneDNN off (TF_ENABLE_ONEDNN_OPTS=0) and mixed bfloat16 (AMX); single-image
latency of model.predict, a direct Keras call, a tf.function and LiteRT with one thread (the
app's int8 model and its float32 export); and batch throughput of Keras and LiteRT; OpenVINO
beside LiteRT where it is installed (the Intel environment). After the rounds, one process
traces a few training steps of the shipped recipe with TensorFlow's profiler and tables the
time per op type (model.benchmark.profile). Where the Intel Extension for TensorFlow (ITEX) is installed, TensorFlow loads it
and the rows are labelled with it.

Every measurement runs in a fresh Python process, so that each training variant starts from the
same state and oneDNN can be switched off. The inference rows of one runtime share a process and
take turns inside it. Each round measures every variant once, in a rotated order, and the ratios
are taken within a round, so that load on the machine hits both sides of a ratio alike.
The per-frame camera path is measured by the camera app's own benchmark, not here.

The Intel environment (`make intel-env`, from requirements/intel.txt) has ITEX 2.15.0.0, the newest
release with a CPU build, hence TensorFlow 2.15, Keras 2 and numpy < 2. TensorFlow loads ITEX
whenever it is installed; to tell ITEX apart from the TensorFlow version, add a third environment
with the same pins and no ITEX:

    python3 -m venv /tmp/venv-tf215
    /tmp/venv-tf215/bin/pip install tensorflow==2.15.1 'numpy<2' \\
        opencv-python-headless==4.11.0.86 ai-edge-litert==1.4.0
    python -m model.benchmark --also-python .venv-intel/bin/python \\
        --also-python /tmp/venv-tf215/bin/python \\
        --json docs/benchmark.json --markdown docs/benchmark.md
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from pathlib import Path

from model.benchmark.report import compute_ratios, format_markdown, format_text_table
from model.benchmark.runner import benchmark
from model.benchmark.variants import QUICK_CONFIG, BenchmarkConfig
from model.benchmark.worker import run_worker
from segmentation import files

DEFAULT_JSON = Path("runs/benchmark/benchmark.json")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m model.benchmark", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="a few steps and one round: checks that everything runs")
    parser.add_argument("--rounds", type=int, help="rounds (default 5, quick 1)")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON,
                        help=f"where to write the results (default {DEFAULT_JSON})")
    parser.add_argument("--markdown", type=Path, help="also write the tables as markdown here")
    parser.add_argument("--also-python", action="append", default=[], metavar="PYTHON",
                        help="another interpreter to measure in the same rounds, e.g. "
                             ".venv-intel/bin/python (may be repeated)")
    parser.add_argument("--from-json", type=Path,
                        help="measure nothing: print and write tables from this results file")
    # The options below are for the worker processes that the benchmark starts.
    parser.add_argument("--worker", choices=("train", "keras", "litert", "openvino", "export",
                                             "profile"),
                        help=argparse.SUPPRESS)
    parser.add_argument("--variant", help=argparse.SUPPRESS)
    parser.add_argument("--tflite", help=argparse.SUPPRESS)
    parser.add_argument("--worker-config", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    arguments = parser.parse_args(argv)
    if arguments.worker:
        return run_worker(arguments)

    if arguments.from_json:
        try:
            report = json.loads(arguments.from_json.read_text())
        except (OSError, ValueError) as error:
            parser.error(f"cannot read {arguments.from_json}: {error}")
        json_path = arguments.from_json
        # Ratios follow the current definitions, so that old results get new comparisons.
        report["ratios"] = compute_ratios(report["rows"], report["environments"])
    else:
        config = QUICK_CONFIG if arguments.quick else BenchmarkConfig()
        if arguments.rounds is not None:
            if arguments.rounds < 1:
                parser.error(f"--rounds must be at least 1, got {arguments.rounds}")
            config = dataclasses.replace(config, rounds=arguments.rounds)
        pythons = [sys.executable]
        for python in arguments.also_python:
            if not Path(python).is_file():
                parser.error(f"--also-python {python}: no such interpreter "
                             "(create the Intel environment with `make intel-env`)")
            pythons.append(python)
        if os.getloadavg()[0] > 0.5:
            print(f"Note: load average {os.getloadavg()[0]:.1f} before starting; other work on "
                  "this machine makes the figures noisy.", flush=True)
        command = " ".join(["python -m model.benchmark", *(argv if argv is not None
                                                            else sys.argv[1:])])
        report = benchmark(config, pythons, arguments.quick, command)
        json_path = arguments.json
        json_path.parent.mkdir(parents=True, exist_ok=True)
        files.write_text(json_path, json.dumps(report, indent=2) + "\n")
        print(f"Wrote {json_path}")
    print()
    print(format_text_table(report))
    if arguments.markdown:
        arguments.markdown.parent.mkdir(parents=True, exist_ok=True)
        files.write_text(arguments.markdown, format_markdown(report, str(json_path)))
        print(f"Wrote {arguments.markdown}")
    if report["errors"]:
        print(f"{len(report['errors'])} measurement(s) failed; see above.")
        return 1
    return 0


if __name__ == "__main__":
    from segmentation.command import run_command

    raise SystemExit(run_command(main))

"""The coordinator: runs the worker processes round-robin and collects their measurements."""

from __future__ import annotations

import dataclasses
import datetime
import json
import os
import platform
import subprocess
import tempfile
from pathlib import Path

from model.benchmark.report import compute_ratios, summarise
from model.benchmark.variants import VARIANTS, VARIANTS_BY_NAME, BenchmarkConfig
from model.paths import SHIPPED_TFLITE_MODEL


def run_process(python: str, arguments: list, variables: tuple, config: BenchmarkConfig) -> dict:
    """Runs one worker process; returns its results, or {"error": ...} when it failed."""
    with tempfile.TemporaryDirectory(prefix="benchmark-") as folder:
        result_path = Path(folder) / "result.json"
        command = [python, "-m", "model.benchmark", *arguments,
                   "--worker-config", json.dumps(dataclasses.asdict(config)),
                   "--result", str(result_path)]
        # The workers import `model` from this source tree, whichever interpreter runs them.
        root = str(Path(__file__).resolve().parents[2])
        process_environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2",
                               "ITEX_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": root,
                               **dict(variables)}
        try:
            completed = subprocess.run(command, env=process_environment, capture_output=True,
                                       text=True, timeout=config.timeout_seconds, cwd=root)
        except subprocess.TimeoutExpired:
            return {"error": f"timed out after {config.timeout_seconds} s"}
        except OSError as error:
            return {"error": f"cannot run {python}: {error}"}
        if completed.returncode != 0 or not result_path.is_file():
            lines = (completed.stderr or completed.stdout).strip().splitlines()
            return {"error": f"exit code {completed.returncode}: " + " | ".join(lines[-3:])}
        return json.loads(result_path.read_text())


def cpu_description() -> dict:
    """CPU model and the instruction sets that matter here, from /proc/cpuinfo."""
    fields = {}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            fields.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    flags = set(fields.get("flags", "").split())
    wanted = ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile", "amx_bf16", "amx_int8")
    return {"cpu_model": fields.get("model name", platform.processor() or platform.machine()),
            "cpu_family_model_stepping": "/".join(
                fields.get(key, "?") for key in ("cpu family", "model", "stepping")),
            "cpu_flags": [flag for flag in wanted if flag in flags],
            "cpu_count": os.cpu_count(), "platform": platform.platform()}


def environment_label(description: dict) -> str:
    if not description.get("tensorflow"):
        return "?"
    label = f"TF {description['tensorflow']}, Keras {description['keras']}"
    if description.get("itex"):
        label += f", ITEX {description['itex']}"
    return label


def make_jobs(pythons: list) -> list:
    """One job per process: a training variant, or all inference variants of one runtime.

    The environments of one job follow each other, so that they are compared minutes apart.
    """
    kinds = [("train", variant.name, variant.environment_variables)
             for variant in VARIANTS if variant.worker == "train"]
    kinds += [("keras", None, ()), ("litert", None, ()), ("openvino", None, ())]
    return [(python, worker, variant_name, variables)
            for worker, variant_name, variables in kinds for python in pythons]


def prepare_tflite_models(pythons: list, folder: Path, config: BenchmarkConfig) -> dict:
    """The shipped LiteRT model, or else an untrained one per environment, from its converter."""
    paths = {}
    for index, python in enumerate(pythons):
        if SHIPPED_TFLITE_MODEL.is_file():
            paths[python] = SHIPPED_TFLITE_MODEL
            continue
        paths[python] = folder / f"untrained_{index}.tflite"
        print(f"No {SHIPPED_TFLITE_MODEL.name} yet: exporting an untrained network with {python} "
              "...", flush=True)
        result = run_process(python, ["--worker", "export", "--tflite", str(paths[python])], (),
                             config)
        if "error" in result:
            print(f"  export failed: {result['error']}", flush=True)
    return paths


def benchmark(config: BenchmarkConfig, pythons: list, quick: bool, command: str) -> dict:
    started_at = datetime.datetime.now(datetime.timezone.utc)
    load_before = os.getloadavg()
    descriptions = {python: {} for python in pythons}  # Library versions, from the workers.
    samples = {}  # (python, row name) -> one value per round, None where it failed.
    skipped = {}  # (python, worker) -> why an optional runtime was not measured.
    errors = []
    jobs = make_jobs(pythons)
    with tempfile.TemporaryDirectory(prefix="benchmark-model-") as folder:
        tflite_paths = prepare_tflite_models(pythons, Path(folder), config)
        for round_index in range(config.rounds):
            # Rotate the order each round so that no job is always first or last.
            shift = round_index % len(jobs)
            for python, worker, variant_name, variables in jobs[shift:] + jobs[:shift]:
                if (python, worker) in skipped:
                    continue
                arguments = ["--worker", worker]
                if variant_name:
                    arguments += ["--variant", variant_name]
                if worker in ("litert", "openvino"):
                    arguments += ["--tflite", str(tflite_paths[python])]
                what = variant_name or f"{worker} inference"
                print(f"[round {round_index + 1}/{config.rounds}] {what} ({python}) ...",
                      end=" ", flush=True)
                result = run_process(python, arguments, variables, config)
                names = [variant_name] if variant_name else \
                    [variant.name for variant in VARIANTS if variant.worker == worker]
                if "error" in result:
                    print(f"FAILED: {result['error']}", flush=True)
                    errors.append({"round": round_index + 1, "job": what, "python": python,
                                   "error": result["error"]})
                    for name in names:
                        samples.setdefault((python, name), []).append(None)
                    continue
                descriptions[python].update(result.get("environment", {}))
                if "skipped" in result:
                    print(f"skipped: {result['skipped']}", flush=True)
                    skipped[python, worker] = result["skipped"]
                    continue
                for key in ("keras_model", "tflite_model", "openvino", "openvino_precision"):
                    if key in result:
                        descriptions[python][key] = result[key]
                for name in names:
                    samples.setdefault((python, name), []).append(result.get(name))
                shown = ", ".join(f"{name} {result[name]:.4g} {VARIANTS_BY_NAME[name].unit}"
                                  for name in names if result.get(name) is not None)
                print(f"{shown} ({result['process_seconds']:.0f} s)", flush=True)

    print("step profile (TensorFlow profiler) ...", end=" ", flush=True)
    step_profile = run_process(pythons[0], ["--worker", "profile"], (), config)
    if "error" in step_profile:
        print(f"FAILED: {step_profile['error']}", flush=True)
        errors.append({"round": 0, "job": "step profile", "python": pythons[0],
                       "error": step_profile["error"]})
    else:
        print(f"{step_profile['step_ms']:.0f} ms per step", flush=True)

    # Name the environments after what they turned out to hold.
    environments = []
    for index, python in enumerate(pythons):
        description = descriptions[python]
        if description.get("itex"):
            key = "intel"
        elif index == 0:
            key = "stock"
        else:
            key = f"tf-{description.get('tensorflow', index + 1)}"
        if any(entry["key"] == key for entry in environments):
            key = f"{key}-{index + 1}"
        environments.append({"key": key, "python": python,
                             "label": environment_label(description), **description})
    rows = []  # Variant by variant, so that the environments of one variant stand together.
    for variant in VARIANTS:
        for python, environment in zip(pythons, environments):
            values = samples.get((python, variant.name), [])
            rows.append({"name": variant.name, "environment": environment["key"],
                         "description": variant.description, "unit": variant.unit,
                         "better": "lower" if variant.unit == "ms" else "higher",
                         "samples": values, **summarise(values),
                         "skipped": skipped.get((python, variant.worker))})
    return {
        "schema": 1,
        "created": started_at.isoformat(timespec="seconds"),
        "wall_seconds": round((datetime.datetime.now(datetime.timezone.utc)
                               - started_at).total_seconds(), 1),
        "mode": "quick" if quick else "full",
        "command": command,
        "config": dataclasses.asdict(config),
        "machine": {**cpu_description(), "load_average_before": list(load_before),
                    "load_average_after": list(os.getloadavg())},
        "environments": environments,
        "rows": rows,
        "ratios": compute_ratios(rows, environments),
        "step_profile": None if "error" in step_profile else step_profile,
        "errors": errors,
    }

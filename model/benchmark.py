"""Speed of the CNN on this CPU, every variant measured side by side, interleaved and repeated.

    python -m model.benchmark --quick          # a few steps of everything, one round (1-2 minutes)
    python -m model.benchmark                  # the full run: 5 rounds (about 10 minutes)
    python -m model.benchmark --also-python .venv-intel/bin/python \\
        --json docs/benchmark.json --markdown docs/benchmark.md    # both environments, one table
    python -m model.benchmark --from-json docs/benchmark.json --markdown docs/benchmark.md

Rows: training throughput (images/s) of the shipped architecture in fp32 with oneDNN (TensorFlow's
default), fp32 with oneDNN off (TF_ENABLE_ONEDNN_OPTS=0) and mixed bfloat16 (AMX); single-image
latency of model.predict, a direct Keras call, a tf.function and LiteRT with one thread; and batch
throughput of Keras and LiteRT; OpenVINO beside LiteRT where it is installed (the Intel
environment). Where the Intel Extension for TensorFlow (ITEX) is installed, TensorFlow loads it
and the rows are labelled with it.

Every measurement runs in a fresh Python process, so that each training variant starts from the
same state and oneDNN can be switched off. The inference rows of one runtime share a process and
take turns inside it. Each round measures every variant once, in a rotated order, and the ratios
are taken within a round, so that load on the machine hits both sides of a ratio alike.
The per-frame camera path is measured by the camera app's own benchmark, not here.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from model.paths import SHIPPED_KERAS_MODEL, SHIPPED_TFLITE_MODEL
from model.train import TrainConfig

DEFAULT_JSON = Path("runs/benchmark/benchmark.json")


@dataclass(frozen=True)
class BenchmarkConfig:
    rounds: int = 5  # Times each variant is measured, round-robin, each time in a fresh process.
    train_batch_size: int = TrainConfig.batch_size  # Images per training step, as in model.train.
    train_warmup_steps: int = 5  # Training steps not timed (tracing, oneDNN primitive creation).
    train_steps: int = 30  # Timed training steps per measurement.
    warmup_calls: int = 5  # Inference calls of each variant not timed.
    latency_calls: int = 60  # Timed single-image calls per variant and process.
    predict_calls: int = 15  # Timed model.predict calls (each one is slow).
    inference_batch_size: int = 256  # Images per call for the batch throughput rows.
    batch_calls: int = 10  # Timed batch calls per variant and process.
    turns: int = 5  # Inference variants of one process take turns this many times.
    timeout_seconds: int = 900  # A measurement process running longer than this has failed.


QUICK_CONFIG = BenchmarkConfig(rounds=1, train_warmup_steps=1, train_steps=3, warmup_calls=2,
                               latency_calls=5, predict_calls=2, batch_calls=2, turns=1,
                               timeout_seconds=300)


@dataclass(frozen=True)
class Variant:
    name: str  # Row key in the JSON.
    description: str  # What the row measures, for the tables.
    worker: str  # The process that measures it: "train", "keras", "litert" or "openvino".
    unit: str  # "images/s" (higher is better) or "ms" (lower is better).
    environment_variables: tuple = ()  # (name, value) pairs set for its process.


VARIANTS = (
    Variant("train_fp32_onednn", "training, fp32, oneDNN on (default)", "train", "images/s"),
    Variant("train_fp32_no_onednn", "training, fp32, oneDNN off (TF_ENABLE_ONEDNN_OPTS=0)",
            "train", "images/s", (("TF_ENABLE_ONEDNN_OPTS", "0"),)),
    Variant("train_bf16_mixed", "training, mixed bfloat16 (AMX)", "train", "images/s"),
    Variant("latency_keras_predict", "1 image, model.predict", "keras", "ms"),
    Variant("latency_keras_call", "1 image, direct Keras call", "keras", "ms"),
    Variant("latency_tf_function", "1 image, tf.function", "keras", "ms"),
    Variant("latency_litert", "1 image, LiteRT 1 thread", "litert", "ms"),
    Variant("batch_keras_call", "batch, direct Keras call (all cores)", "keras", "images/s"),
    Variant("batch_litert_1_thread", "batch, LiteRT 1 thread", "litert", "images/s"),
    Variant("batch_litert_2_threads", "batch, LiteRT 2 threads", "litert", "images/s"),
    # OpenVINO is optional: requirements/intel.txt installs it; elsewhere its rows are skipped.
    Variant("latency_openvino", "1 image, OpenVINO 1 thread (its default precision)", "openvino",
            "ms"),
    Variant("latency_openvino_f32", "1 image, OpenVINO 1 thread, f32", "openvino", "ms"),
    Variant("batch_openvino", "batch, OpenVINO (all cores, its default precision)", "openvino",
            "images/s"),
)
OPTIONAL_WORKERS = {"openvino": "openvino"}  # Worker -> the package it needs.
VARIANTS_BY_NAME = {variant.name: variant for variant in VARIANTS}

# Speed-ups within one environment and round: (label, candidate row, baseline row).
RATIOS = (
    ("bf16 vs fp32 (training)", "train_bf16_mixed", "train_fp32_onednn"),
    ("oneDNN on vs off (training)", "train_fp32_onednn", "train_fp32_no_onednn"),
    ("LiteRT vs model.predict (1 image)", "latency_litert", "latency_keras_predict"),
    ("LiteRT vs direct Keras call (1 image)", "latency_litert", "latency_keras_call"),
    ("tf.function vs direct Keras call (1 image)", "latency_tf_function", "latency_keras_call"),
    ("LiteRT 1 thread vs Keras (batch)", "batch_litert_1_thread", "batch_keras_call"),
    ("OpenVINO vs LiteRT (1 image, 1 thread)", "latency_openvino", "latency_litert"),
    ("OpenVINO default vs f32 (1 image)", "latency_openvino", "latency_openvino_f32"),
)
# Rows compared between an environment with ITEX and one without, round by round.
ITEX_RATIO_ROWS = ("train_fp32_onednn", "train_bf16_mixed", "latency_keras_call",
                   "batch_keras_call")


# ---------------------------------------------------------------------------------------------
# Workers: each runs in its own process and writes its measurements to a JSON file.


def package_version(name: str):
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return None


def describe_environment(with_tensorflow: bool) -> dict:
    """Library versions of this process; importing TensorFlow loads ITEX where installed."""
    description = {"python_version": platform.python_version(), "numpy": np.__version__,
                   "ai_edge_litert": package_version("ai-edge-litert")}
    if with_tensorflow:
        import keras
        import tensorflow as tf

        description.update(tensorflow=tf.__version__, keras=keras.__version__, itex=None)
        try:
            import intel_extension_for_tensorflow as itex

            description["itex"] = itex.__version__
        except ImportError:
            pass
    return description


def median_of_timed_calls(function, calls: int) -> float:
    """Median seconds of one call over `calls` calls."""
    durations = []
    for _ in range(calls):
        started = time.perf_counter()
        function()
        durations.append(time.perf_counter() - started)
    return statistics.median(durations)


def take_turns(functions: dict, calls: dict, config: BenchmarkConfig) -> dict:
    """Warms every function up, then times them in turns; returns the median seconds of each."""
    for function in functions.values():
        for _ in range(config.warmup_calls):
            function()
    durations = {name: [] for name in functions}
    for turn in range(config.turns):
        # Rotate the order each turn so that no variant always follows the same one.
        names = list(functions)
        names = names[turn % len(names):] + names[:turn % len(names)]
        for name in names:
            share = max(1, calls[name] // config.turns)
            durations[name].append(median_of_timed_calls(functions[name], share))
    return {name: statistics.median(values) for name, values in durations.items()}


def measure_training(variant_name: str, config: BenchmarkConfig) -> dict:
    """Images/s of model.fit steps on in-memory synthetic data (no augmentation pipeline)."""
    import keras
    import tensorflow as tf

    from model.network import build_network
    from model.train import make_optimizer

    train_config = TrainConfig(batch_size=config.train_batch_size)
    keras.utils.set_random_seed(train_config.seed)
    keras.mixed_precision.set_global_policy(
        "mixed_bfloat16" if variant_name == "train_bf16_mixed" else "float32")
    model = build_network()
    model.compile(optimizer=make_optimizer(train_config, steps_per_epoch=100),
                  loss=keras.losses.CategoricalCrossentropy(
                      label_smoothing=train_config.label_smoothing),
                  metrics=["accuracy"])
    random = np.random.default_rng(0)
    images = random.integers(0, 256, (4 * config.train_batch_size, 28, 28, 1)).astype(np.float32)
    labels = keras.utils.to_categorical(random.integers(0, 10, len(images)), 10)
    dataset = tf.data.Dataset.from_tensor_slices((images, labels)).repeat() \
        .batch(config.train_batch_size, drop_remainder=True).prefetch(2)

    step_ends = []

    class StepTimer(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            step_ends.append(time.perf_counter())

    model.fit(dataset, epochs=1, steps_per_epoch=config.train_warmup_steps + config.train_steps,
              callbacks=[StepTimer()], verbose=0)
    step_seconds = np.diff(step_ends[config.train_warmup_steps - 1:])
    return {variant_name: config.train_batch_size / float(np.median(step_seconds))}


def load_keras_model():
    """The shipped Keras model, else an untrained network; returns it and where it came from.

    Keras 2.15 cannot read the layer config of a Keras 3 file but can read its weights, so the
    weights go into a freshly built network. Speed does not depend on the weights anyway.
    """
    import keras

    from model.network import build_network

    if not SHIPPED_KERAS_MODEL.is_file():
        return build_network(), "untrained network (no shipped .keras file)"
    try:
        return keras.models.load_model(SHIPPED_KERAS_MODEL, compile=False), \
            SHIPPED_KERAS_MODEL.name
    except Exception:  # Keras raises many kinds for a file it cannot read.
        model = build_network()
    try:
        model.load_weights(SHIPPED_KERAS_MODEL)
        return model, f"weights of {SHIPPED_KERAS_MODEL.name} in build_network()"
    except Exception as error:
        return build_network(), f"untrained network ({SHIPPED_KERAS_MODEL.name} did not load: " \
                                f"{type(error).__name__})"


def measure_keras_inference(config: BenchmarkConfig) -> dict:
    import tensorflow as tf

    model, source = load_keras_model()
    random = np.random.default_rng(0)
    image = random.integers(0, 256, (1, 28, 28, 1)).astype(np.float32)
    batch = random.integers(0, 256, (config.inference_batch_size, 28, 28, 1)).astype(np.float32)
    serve = tf.function(lambda pixels: model(pixels, training=False),
                        input_signature=[tf.TensorSpec([None, 28, 28, 1], tf.float32)])
    functions = {
        "latency_keras_predict": lambda: model.predict(image, verbose=0),
        "latency_keras_call": lambda: np.asarray(model(image, training=False)),
        "latency_tf_function": lambda: np.asarray(serve(image)),
        "batch_keras_call": lambda: np.asarray(model(batch, training=False)),
    }
    calls = {"latency_keras_predict": config.predict_calls,
             "latency_keras_call": config.latency_calls,
             "latency_tf_function": config.latency_calls,
             "batch_keras_call": config.batch_calls}
    seconds = take_turns(functions, calls, config)
    results = {name: value * 1000 for name, value in seconds.items() if name.startswith("latency")}
    results["batch_keras_call"] = config.inference_batch_size / seconds["batch_keras_call"]
    return {**results, "keras_model": source}


def measure_litert_inference(config: BenchmarkConfig, tflite_path: Path) -> dict:
    """LiteRT as the app runs it: uint8 images through model.predictor, no TensorFlow import."""
    from model.predictor import LiteRtPredictor

    one_thread = LiteRtPredictor(tflite_path, threads=1)
    two_threads = LiteRtPredictor(tflite_path, threads=2)
    random = np.random.default_rng(0)
    image = random.integers(0, 256, (1, 28, 28), dtype=np.uint8)
    batch = random.integers(0, 256, (config.inference_batch_size, 28, 28), dtype=np.uint8)
    # A separate single-image predictor keeps the batch ones from resizing their input each call.
    single = LiteRtPredictor(tflite_path, threads=1)
    functions = {
        "latency_litert": lambda: single.predict(image),
        "batch_litert_1_thread": lambda: one_thread.predict(batch),
        "batch_litert_2_threads": lambda: two_threads.predict(batch),
    }
    calls = {"latency_litert": config.latency_calls, "batch_litert_1_thread": config.batch_calls,
             "batch_litert_2_threads": config.batch_calls}
    seconds = take_turns(functions, calls, config)
    return {"latency_litert": seconds["latency_litert"] * 1000,
            "batch_litert_1_thread": config.inference_batch_size / seconds["batch_litert_1_thread"],
            "batch_litert_2_threads": config.inference_batch_size
            / seconds["batch_litert_2_threads"],
            "tflite_model": str(tflite_path)}


def measure_openvino_inference(config: BenchmarkConfig, tflite_path: Path) -> dict:
    """OpenVINO on the same LiteRT file, which it reads directly; no TensorFlow import.

    On CPUs with AMX, OpenVINO's default inference precision is bfloat16; the f32 row forces
    float32 so that the two can be told apart.
    """
    import openvino

    core = openvino.Core()
    model = core.read_model(str(tflite_path))
    single = core.compile_model(model, "CPU", {"INFERENCE_NUM_THREADS": 1,
                                               "PERFORMANCE_HINT": "LATENCY"})
    single_f32 = core.compile_model(model, "CPU", {"INFERENCE_NUM_THREADS": 1,
                                                   "PERFORMANCE_HINT": "LATENCY",
                                                   "INFERENCE_PRECISION_HINT": "f32"})
    batched = core.compile_model(model, "CPU", {"PERFORMANCE_HINT": "THROUGHPUT"})
    random = np.random.default_rng(0)
    image = random.integers(0, 256, (1, 28, 28, 1)).astype(np.float32)
    batch = random.integers(0, 256, (config.inference_batch_size, 28, 28, 1)).astype(np.float32)
    functions = {"latency_openvino": lambda: single(image),
                 "latency_openvino_f32": lambda: single_f32(image),
                 "batch_openvino": lambda: batched(batch)}
    calls = {"latency_openvino": config.latency_calls,
             "latency_openvino_f32": config.latency_calls, "batch_openvino": config.batch_calls}
    seconds = take_turns(functions, calls, config)
    return {"latency_openvino": seconds["latency_openvino"] * 1000,
            "latency_openvino_f32": seconds["latency_openvino_f32"] * 1000,
            "batch_openvino": config.inference_batch_size / seconds["batch_openvino"],
            "openvino_precision": single.get_property("INFERENCE_PRECISION_HINT").get_type_name(),
            "openvino": openvino.__version__.split("-")[0]}


def export_untrained_tflite(path: Path) -> dict:
    """Writes an untrained network as LiteRT, for when no model has been trained yet."""
    from model.export import export_tflite
    from model.network import build_network

    export_tflite(build_network(), path)
    return {"tflite_model": str(path)}


def run_worker(arguments) -> int:
    config = BenchmarkConfig(**json.loads(arguments.worker_config))
    started = time.perf_counter()
    # Versions first: importing ITEX after a LiteRT conversion fails in TensorFlow 2.15.
    # The LiteRT worker never imports TensorFlow, as in the app.
    environment = describe_environment(
        with_tensorflow=arguments.worker not in ("litert", "openvino"))
    package = OPTIONAL_WORKERS.get(arguments.worker)
    if package and importlib.util.find_spec(package) is None:
        results = {"skipped": f"{package} is not installed here"}
    elif arguments.worker == "train":
        results = measure_training(arguments.variant, config)
    elif arguments.worker == "keras":
        results = measure_keras_inference(config)
    elif arguments.worker == "litert":
        results = measure_litert_inference(config, Path(arguments.tflite))
    elif arguments.worker == "openvino":
        results = measure_openvino_inference(config, Path(arguments.tflite))
    else:
        results = export_untrained_tflite(Path(arguments.tflite))
    results["environment"] = environment
    results["process_seconds"] = time.perf_counter() - started
    Path(arguments.result).write_text(json.dumps(results))
    return 0


# ---------------------------------------------------------------------------------------------
# The coordinator: runs the workers round-robin and summarises.


def run_process(python: str, arguments: list, variables: tuple, config: BenchmarkConfig) -> dict:
    """Runs one worker process; returns its results, or {"error": ...} when it failed."""
    with tempfile.TemporaryDirectory(prefix="benchmark-") as folder:
        result_path = Path(folder) / "result.json"
        command = [python, "-m", "model.benchmark", *arguments,
                   "--worker-config", json.dumps(dataclasses.asdict(config)),
                   "--result", str(result_path)]
        # The workers import `model` from this source tree, whichever interpreter runs them.
        root = str(Path(__file__).resolve().parent.parent)
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


def summarise(samples: list) -> dict:
    values = [value for value in samples if value is not None]
    if not values:
        return {"median": None, "min": None, "max": None}
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def speed_ups(candidate: dict, baseline: dict) -> list:
    """Per-round speed-up of the candidate row over the baseline row: above 1 is faster."""
    values = []
    for candidate_value, baseline_value in zip(candidate["samples"], baseline["samples"]):
        if candidate_value is None or baseline_value is None:
            continue
        if candidate["unit"] == "ms":
            values.append(baseline_value / candidate_value)
        else:
            values.append(candidate_value / baseline_value)
    return values


def compute_ratios(rows: list, environments: list) -> list:
    by_key = {(row["environment"], row["name"]): row for row in rows}
    comparisons = []  # (label, environment label, candidate row, baseline row)
    for environment in environments:
        key = environment["key"]
        for label, candidate, baseline in RATIOS:
            if (key, candidate) in by_key and (key, baseline) in by_key:
                comparisons.append((label, key, by_key[key, candidate], by_key[key, baseline]))
    for itex_environment in [entry for entry in environments if entry.get("itex")]:
        for stock_environment in [entry for entry in environments if not entry.get("itex")]:
            for name in ITEX_RATIO_ROWS:
                itex_row = by_key.get((itex_environment["key"], name))
                stock_row = by_key.get((stock_environment["key"], name))
                if itex_row and stock_row:
                    comparisons.append((f"with ITEX vs without: {itex_row['description']}",
                                        f"{itex_environment['key']} vs {stock_environment['key']}",
                                        itex_row, stock_row))
    ratios = []
    for label, environment_key, candidate, baseline in comparisons:
        if candidate.get("skipped") or baseline.get("skipped"):
            continue
        values = speed_ups(candidate, baseline)
        ratios.append({"comparison": label, "environment": environment_key,
                       "candidate": candidate["name"], "baseline": baseline["name"],
                       "per_round": values, **summarise(values)})
    return ratios


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
                    samples.setdefault((python, name), []).append(result[name])
                shown = ", ".join(f"{name} {result[name]:.4g} {VARIANTS_BY_NAME[name].unit}"
                                  for name in names)
                print(f"{shown} ({result['process_seconds']:.0f} s)", flush=True)

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
        "errors": errors,
    }


# ---------------------------------------------------------------------------------------------
# Tables.


def format_value(value, unit: str) -> str:
    if value is None:
        return "failed"
    if unit == "ms":
        return f"{value:.3g} ms" if value < 100 else f"{value:.0f} ms"
    return f"{value:,.0f} {unit}"


def table_rows(report: dict) -> list:
    """(description, environment, median, spread, rounds) for every row."""
    lines = []
    for row in report["rows"]:
        if row.get("skipped"):
            lines.append((row["description"], row["environment"], "skipped", row["skipped"], "0"))
            continue
        spread = "-" if row["min"] is None else \
            f"{format_value(row['min'], row['unit'])} - {format_value(row['max'], row['unit'])}"
        measured = sum(value is not None for value in row["samples"])
        lines.append((row["description"], row["environment"],
                      format_value(row["median"], row["unit"]), spread, str(measured)))
    return lines


def ratio_rows(report: dict) -> list:
    lines = []
    for ratio in report["ratios"]:
        if ratio["median"] is None:
            lines.append((ratio["comparison"], ratio["environment"], "failed", "-", "0"))
            continue
        lines.append((ratio["comparison"], ratio["environment"], f"{ratio['median']:.2f}x",
                      f"{ratio['min']:.2f}x - {ratio['max']:.2f}x", str(len(ratio["per_round"]))))
    return lines


def format_text_table(report: dict) -> str:
    headers = ("variant", "environment", "median", "spread (min - max)", "rounds")
    ratio_headers = ("ratio (speed-up)", "environment", "median", "spread (min - max)", "rounds")
    parts = []
    for header, lines in ((headers, table_rows(report)), (ratio_headers, ratio_rows(report))):
        widths = [max(len(str(cell)) for cell in column) for column in zip(header, *lines)]
        parts.append("  ".join(cell.ljust(width) for cell, width in zip(header, widths)))
        parts += ["  ".join(cell.ljust(width) for cell, width in zip(line, widths))
                  for line in lines]
        parts.append("")
    return "\n".join(parts)


def markdown_table(headers: tuple, lines: list) -> list:
    return ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)] + \
        ["| " + " | ".join(line) + " |" for line in lines]


def format_markdown(report: dict, json_path: str) -> str:
    machine = report["machine"]
    config = report["config"]
    lines = [
        "# Benchmark: training and inference speed of the Fashion-MNIST CNN",
        "",
        f"<!-- Generated by `python -m model.benchmark` from {json_path}; do not edit by hand. -->",
        "",
        f"Measured {report['created']} ({report['mode']} mode, {config['rounds']} round(s), "
        f"{report['wall_seconds'] / 60:.0f} min) on **{machine['cpu_model']}** "
        f"(family/model/stepping {machine['cpu_family_model_stepping']}), "
        f"{machine['cpu_count']} cores, {', '.join(machine['cpu_flags'])}; {machine['platform']}. "
        f"Load average before: {machine['load_average_before'][0]:.2f}, "
        f"after: {machine['load_average_after'][0]:.2f}.",
        "",
        "Environments:",
        "",
    ]
    for environment in report["environments"]:
        openvino = f", OpenVINO {environment['openvino']} (default precision " \
            f"{environment.get('openvino_precision')})" if environment.get("openvino") else ""
        lines.append(f"- **{environment['key']}** (`{environment['python']}`): "
                     f"{environment['label']}, numpy {environment.get('numpy')}, ai-edge-litert "
                     f"{environment.get('ai_edge_litert')}{openvino}, Python "
                     f"{environment.get('python_version')}. Keras model: "
                     f"{environment.get('keras_model', '?')}; LiteRT model: "
                     f"{Path(environment.get('tflite_model', '?')).name}.")
    lines += [
        "",
        f"Training: batch {config['train_batch_size']}, {config['train_steps']} timed steps after "
        f"{config['train_warmup_steps']} warm-up steps of `model.fit` on in-memory synthetic "
        "images (the augmentation pipeline of real training is not included); the median step "
        "time gives images/s. Single-image latency: the median of timed calls after warm-up. "
        f"Batch rows: {config['inference_batch_size']} images per call.",
        "",
        "Every training variant runs in a fresh process; the inference variants of one runtime "
        "share a process and take turns. Every round runs all of them in a rotated order. "
        "The median is over rounds, the spread is the lowest and highest round.",
        "",
        "## Measurements",
        "",
        *markdown_table(("Variant", "Environment", "Median", "Spread (min - max)", "Rounds"),
                        table_rows(report)),
        "",
        "## Ratios",
        "",
        "Each ratio is taken within one round (both sides measured minutes apart), then the "
        "median and the spread over rounds. Above 1 means the first-named side is faster.",
        "",
        *markdown_table(("Comparison", "Environment", "Median", "Spread (min - max)", "Rounds"),
                        ratio_rows(report)),
        "",
        "The per-frame camera path (segmentation plus classification) is measured by the "
        "camera app's own benchmark and quoted in the README, not here.",
        "",
        "## Reproduce",
        "",
        f"These figures came from `{report.get('command', 'python -m model.benchmark')}`. "
        "Timings on a shared machine swing 2-3x from run to run, so compare ratios taken in the "
        "same run, not figures from different runs.",
        "",
        "```",
        "make intel-env    # .venv-intel: TensorFlow 2.15.1, ITEX 2.15.0.0, numpy 1.26, OpenVINO",
        "make benchmark    # the stock and the Intel environment in the same rounds: this file",
        "python -m model.benchmark --quick    # a check that everything runs (about a minute)",
        "```",
        "",
        "The Intel environment comes from `requirements/intel.txt`. ITEX 2.15.0.0 is the newest "
        "release with a CPU build and needs TensorFlow 2.15, hence Keras 2, numpy < 2 and "
        "opencv 4.x. TensorFlow loads ITEX whenever it is installed, so to tell ITEX apart from "
        "the TensorFlow version, measure a third environment with the same pins but no ITEX:",
        "",
        "```",
        "python3 -m venv /tmp/venv-tf215",
        "/tmp/venv-tf215/bin/pip install tensorflow==2.15.1 'numpy<2' "
        "opencv-python-headless==4.11.0.86 ai-edge-litert==1.4.0",
        ".venv/bin/python -m model.benchmark --also-python .venv-intel/bin/python \\",
        "    --also-python /tmp/venv-tf215/bin/python --json docs/benchmark.json "
        "--markdown docs/benchmark.md",
        "```",
        "",
    ]
    if report["errors"]:
        lines += ["## Failures", ""] + [f"- round {error['round']}, {error['job']} "
                                        f"({error['python']}): {error['error']}"
                                        for error in report["errors"]] + [""]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
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
    parser.add_argument("--worker", choices=("train", "keras", "litert", "openvino", "export"),
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
        json_path.write_text(json.dumps(report, indent=2) + "\n")
        print(f"Wrote {json_path}")
    print()
    print(format_text_table(report))
    if arguments.markdown:
        arguments.markdown.parent.mkdir(parents=True, exist_ok=True)
        arguments.markdown.write_text(format_markdown(report, str(json_path)))
        print(f"Wrote {arguments.markdown}")
    if report["errors"]:
        print(f"{len(report['errors'])} measurement(s) failed; see above.")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

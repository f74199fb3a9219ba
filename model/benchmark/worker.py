"""The measuring processes: each runs one job and writes its measurements to a JSON file."""

from __future__ import annotations

import importlib.util
import json
import platform
import statistics
import time
from pathlib import Path

import numpy as np

from model.benchmark.variants import OPTIONAL_WORKERS, BenchmarkConfig
from model.paths import SHIPPED_KERAS_MODEL
from model.train import TrainConfig


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
    model = build_network(fused_batch_norm=True)  # As model.train trains it.
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
    weights go into a freshly built network of the widths its model card names. Speed does not
    depend on the weights anyway.
    """
    import keras

    from model.card import read_card
    from model.config import NetworkConfig
    from model.network import build_network

    if not SHIPPED_KERAS_MODEL.is_file():
        return build_network(), "untrained network (no shipped .keras file)"
    try:
        return keras.models.load_model(SHIPPED_KERAS_MODEL, compile=False), \
            SHIPPED_KERAS_MODEL.name
    except Exception:  # Keras raises many kinds for a file it cannot read.
        architecture = read_card(SHIPPED_KERAS_MODEL).get("architecture", {})
        widths = {name: tuple(value) if isinstance(value, list) else value
                  for name, value in architecture.items()
                  if name in ("stem_filters", "block_filters", "dense_units")}
        model = build_network(NetworkConfig(**widths))
    try:
        model.load_weights(SHIPPED_KERAS_MODEL)
        return model, f"weights of {SHIPPED_KERAS_MODEL.name} in build_network() of its card's widths"
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
    """LiteRT as the app runs it: uint8 images through model.predictor, no TensorFlow import;
    the float32 export beside the model too, where there is one (model.quantize.float_path),
    else its rows are None."""
    from model.predictor import LiteRtPredictor
    from model.quantize import float_path

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
    float_file = float_path(tflite_path)
    if float_file.is_file():
        float_single = LiteRtPredictor(float_file, threads=1)
        float_batch = LiteRtPredictor(float_file, threads=1)
        functions["latency_litert_float32"] = lambda: float_single.predict(image)
        functions["batch_litert_float32_1_thread"] = lambda: float_batch.predict(batch)
        calls["latency_litert_float32"] = config.latency_calls
        calls["batch_litert_float32_1_thread"] = config.batch_calls
    seconds = take_turns(functions, calls, config)
    batch_rate = {name: config.inference_batch_size / seconds[name] if name in seconds else None
                  for name in ("batch_litert_1_thread", "batch_litert_2_threads",
                               "batch_litert_float32_1_thread")}
    return {"latency_litert": seconds["latency_litert"] * 1000,
            "latency_litert_float32": seconds["latency_litert_float32"] * 1000
            if "latency_litert_float32" in seconds else None,
            **batch_rate, "tflite_model": str(tflite_path)}


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
    elif arguments.worker == "profile":
        from model.benchmark.profile import profile_training_step

        results = profile_training_step(config.profile_steps, config.train_warmup_steps)
    elif arguments.worker == "openvino":
        results = measure_openvino_inference(config, Path(arguments.tflite))
    else:
        results = export_untrained_tflite(Path(arguments.tflite))
    results["environment"] = environment
    results["process_seconds"] = time.perf_counter() - started
    Path(arguments.result).write_text(json.dumps(results))
    return 0

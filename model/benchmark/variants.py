"""What the benchmark measures: its configuration, the variants (rows) and the ratios."""

from __future__ import annotations

from dataclasses import dataclass

from model.train import TrainConfig


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
    profile_steps: int = 10  # Training steps traced by TensorFlow's profiler (step profile).


QUICK_CONFIG = BenchmarkConfig(rounds=1, train_warmup_steps=1, train_steps=3, warmup_calls=2,
                               latency_calls=5, predict_calls=2, batch_calls=2, turns=1,
                               timeout_seconds=300, profile_steps=5)


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
    Variant("latency_litert", "1 image, LiteRT 1 thread (the app's model: int8 weights)",
            "litert", "ms"),
    Variant("latency_litert_float32", "1 image, LiteRT 1 thread, float32 export", "litert", "ms"),
    Variant("batch_keras_call", "batch, direct Keras call (all cores)", "keras", "images/s"),
    Variant("batch_litert_1_thread", "batch, LiteRT 1 thread", "litert", "images/s"),
    Variant("batch_litert_2_threads", "batch, LiteRT 2 threads", "litert", "images/s"),
    Variant("batch_litert_float32_1_thread", "batch, LiteRT 1 thread, float32 export", "litert",
            "images/s"),
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
    ("int8 vs float32 weights, LiteRT (1 image)", "latency_litert", "latency_litert_float32"),
    ("int8 vs float32 weights, LiteRT (batch, 1 thread)", "batch_litert_1_thread",
     "batch_litert_float32_1_thread"),
    ("LiteRT vs direct Keras call (1 image)", "latency_litert", "latency_keras_call"),
    ("tf.function vs direct Keras call (1 image)", "latency_tf_function", "latency_keras_call"),
    ("LiteRT 1 thread vs Keras (batch)", "batch_litert_1_thread", "batch_keras_call"),
    ("OpenVINO vs LiteRT (1 image, 1 thread)", "latency_openvino", "latency_litert"),
    ("OpenVINO default vs f32 (1 image)", "latency_openvino", "latency_openvino_f32"),
)
# Rows compared between an environment with ITEX and one without, round by round.
ITEX_RATIO_ROWS = ("train_fp32_onednn", "train_bf16_mixed", "latency_keras_call",
                   "batch_keras_call")

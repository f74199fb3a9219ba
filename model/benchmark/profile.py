"""Where a training step's time goes, from TensorFlow's profiler.

The shipped recipe's training step (model.train's network, optimizer, loss and input pipeline
with its augmentation; synthetic images, 20% of each batch photos, the recipe's precision)
runs for a few steps under tf.profiler.experimental. The trace (an XSpace protobuf, read with
TensorFlow's own xplane_pb2) is summed by TensorFlow op type: on the executor threads that
run the step (tf_Compute), and on tf.data's threads (the input pipeline, which overlaps the
step). The profiler adds some overhead; the images/s rows of model.benchmark are measured
without it.
"""

from __future__ import annotations

import re
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

# A kernel's event in the trace is named "scope/name:OpType"; the executor's own events
# ("ExecutorState::Process") have two colons and are left out, as they hold the kernels.
KERNEL_EVENT = re.compile(r"^[^:]+:([A-Za-z0-9_]+)$")
TOP_OPS = 12  # Op types listed by name; the rest are summed as "other".


def kernel_times(xspace_path: Path) -> tuple[dict, dict]:
    """(step ops, input pipeline ops): seconds per TensorFlow op type on the tf_Compute
    threads and on the tf.data threads of a profiler trace."""
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    space = xplane_pb2.XSpace()
    space.ParseFromString(Path(xspace_path).read_bytes())
    step, pipeline = {}, {}
    for plane in space.planes:
        names = {key: metadata.name for key, metadata in plane.event_metadata.items()}
        for line in plane.lines:
            totals = step if line.name.startswith("tf_Compute") else \
                pipeline if line.name.startswith("tf_data") else None
            if totals is None:
                continue
            for event in line.events:
                match = KERNEL_EVENT.match(names.get(event.metadata_id, ""))
                if match:
                    totals[match.group(1)] = totals.get(match.group(1), 0.0) \
                        + event.duration_ps * 1e-12
    return step, pipeline


def ranked(seconds_by_op: dict, steps: int) -> list:
    """[op type, ms per step, share] from the largest, the tail summed as "other"."""
    total = sum(seconds_by_op.values()) or 1.0
    ordered = sorted(seconds_by_op.items(), key=lambda item: -item[1])
    rows = ordered[:TOP_OPS]
    rest = sum(seconds for _, seconds in ordered[TOP_OPS:])
    if rest:
        rows.append(("other", rest))
    return [[name, seconds * 1000 / steps, seconds / total] for name, seconds in rows]


def profile_training_step(steps: int, warmup_steps: int) -> dict:
    """Traces `steps` training steps of the shipped recipe after `warmup_steps` untraced ones;
    returns the wall time per step and the op tables (see ranked)."""
    import keras
    import tensorflow as tf

    from model.config import TrainConfig
    from model.network import build_network
    from model.partial_labels import accepted_accuracy, one_class_masks, partial_label_loss
    from model.train import make_dataset, make_optimizer, mixed_batches, photo_batches

    config = TrainConfig()
    photo_count = round(0.2 * config.batch_size)
    random = np.random.default_rng(0)
    images = random.integers(0, 256, (8192, 28, 28), dtype=np.uint8)
    photos = SimpleNamespace(images=random.integers(0, 256, (2048, 28, 28), dtype=np.uint8),
                             accepted=one_class_masks(random.integers(0, 10, 2048)) > 0)
    data = mixed_batches(
        make_dataset(images, one_class_masks(random.integers(0, 10, len(images))), config,
                     True, config.batch_size - photo_count).repeat(),
        photo_batches(photos, config, photo_count)).prefetch(tf.data.AUTOTUNE)
    keras.mixed_precision.set_global_policy(
        "mixed_bfloat16" if config.precision == "bf16" else "float32")
    model = build_network(config.network, fused_batch_norm=True)  # As model.train trains it.
    model.compile(optimizer=make_optimizer(config, 100),
                  loss=partial_label_loss(config.label_smoothing, config.set_loss),
                  metrics=[accepted_accuracy])
    model.fit(data, epochs=1, steps_per_epoch=warmup_steps, verbose=0)
    ends = []

    class StepTimer(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            ends.append(time.perf_counter())

    with tempfile.TemporaryDirectory(prefix="step-profile-") as folder:
        tf.profiler.experimental.start(folder)
        model.fit(data, epochs=1, steps_per_epoch=steps, callbacks=[StepTimer()], verbose=0)
        tf.profiler.experimental.stop()
        traces = sorted(Path(folder).rglob("*.xplane.pb"))
        if not traces:
            raise RuntimeError("TensorFlow's profiler wrote no trace.")
        step_ops, pipeline_ops = kernel_times(traces[-1])
    step_seconds = float(np.median(np.diff(ends))) if len(ends) > 1 else float("nan")
    return {"steps": steps, "batch_size": config.batch_size, "precision": config.precision,
            "step_ms": step_seconds * 1000,
            "images_per_second_profiled": config.batch_size / step_seconds,
            "step_op_ms": sum(step_ops.values()) * 1000 / steps,
            "pipeline_op_ms": sum(pipeline_ops.values()) * 1000 / steps,
            "step_ops": ranked(step_ops, steps), "pipeline_ops": ranked(pipeline_ops, steps)}


def format_profile(profile: dict) -> list:
    """The step profile as lines of text (also valid markdown)."""
    lines = [f"Training step profile (TensorFlow profiler, {profile['steps']} steps of "
             f"{profile['batch_size']} images, {profile['precision']}): "
             f"{profile['step_ms']:.0f} ms per step under the profiler "
             f"({profile['images_per_second_profiled']:,.0f} images/s); kernels on the step's "
             f"threads {profile['step_op_ms']:.0f} ms per step (summed over threads), on "
             f"tf.data's threads {profile['pipeline_op_ms']:.1f} ms per step.", "",
             "| op type (step threads) | ms per step | share |", "|---|---|---|"]
    lines += [f"| {name} | {ms:.1f} | {share:.0%} |" for name, ms, share in profile["step_ops"]]
    lines += ["", "| op type (tf.data threads) | ms per step | share |", "|---|---|---|"]
    lines += [f"| {name} | {ms:.2f} | {share:.0%} |"
              for name, ms, share in profile["pipeline_ops"]]
    return lines

"""The recipe's train step with Keras's BatchNormalization against the fused kernel, interleaved.

    python -m experiments.batch_norm_throughput [--rounds 6 --steps 20]

Builds the shipped network twice (model.network.build_network, with and without
fused_batch_norm), compiles both as model.train does (the recipe's optimizer, loss and
precision), and trains them in turns, in alternating order, on the same fixed synthetic batches
(no augmentation, so only the step differs). Prints the process's CPU time per image (all
threads; less disturbed by other work on the machine than wall time) and images/s per round,
then the medians and the speed-up with its spread. On 2026-12-05 the fused kernel needed 1.9x
less CPU per image (docs/experiments.md, "the fused batch norm").
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=6, help="rounds (default 6)")
    parser.add_argument("--steps", type=int, default=20, help="timed steps per network and "
                                                               "round (default 20)")
    arguments = parser.parse_args(argv)
    import keras
    import tensorflow as tf

    from model.config import TrainConfig
    from model.network import build_network
    from model.partial_labels import accepted_accuracy, one_class_masks, partial_label_loss
    from model.train import make_optimizer

    config = TrainConfig()
    keras.mixed_precision.set_global_policy(
        "mixed_bfloat16" if config.precision == "bf16" else "float32")
    random = np.random.default_rng(0)
    images = random.integers(0, 256, (config.batch_size * 4, 28, 28, 1)).astype(np.float32)
    masks = one_class_masks(random.integers(0, 10, len(images)))
    data = tf.data.Dataset.from_tensor_slices((images, masks)).batch(
        config.batch_size).repeat().prefetch(4)
    networks = {}
    for name, fused in (("keras", False), ("fused", True)):
        network = build_network(config.network, fused_batch_norm=fused)
        network.compile(optimizer=make_optimizer(config, 100),
                        loss=partial_label_loss(config.label_smoothing, config.set_loss),
                        metrics=[accepted_accuracy])
        network.fit(data, epochs=1, steps_per_epoch=3, verbose=0)  # Tracing, oneDNN set-up.
        networks[name] = network
    cpu_ms = {name: [] for name in networks}  # CPU ms per image.
    rates = {name: [] for name in networks}  # Wall images/s.
    for round_index in range(arguments.rounds):
        order = list(networks) if round_index % 2 == 0 else list(networks)[::-1]
        for name in order:
            cpu_started, wall_started = time.process_time(), time.perf_counter()
            networks[name].fit(data, epochs=1, steps_per_epoch=arguments.steps, verbose=0)
            count = arguments.steps * config.batch_size
            cpu_ms[name].append((time.process_time() - cpu_started) * 1000 / count)
            rates[name].append(count / (time.perf_counter() - wall_started))
        print(f"round {round_index + 1}: " + ", ".join(
            f"{name} {cpu_ms[name][-1]:.3f} CPU ms/image, {rates[name][-1]:,.0f} images/s"
            for name in networks), flush=True)
    speed_up = np.array(cpu_ms["keras"]) / np.array(cpu_ms["fused"])
    wall_speed_up = np.array(rates["fused"]) / np.array(rates["keras"])
    print(f"\nmedian over {arguments.rounds} rounds of {arguments.steps} steps (batch "
          f"{config.batch_size}, {config.precision}):")
    for name in networks:
        print(f"  {name:<6} {np.median(cpu_ms[name]):.3f} CPU ms/image "
              f"({min(cpu_ms[name]):.3f}-{max(cpu_ms[name]):.3f}), "
              f"{np.median(rates[name]):,.0f} images/s")
    print(f"  fused against keras: {np.median(speed_up):.2f}x less CPU per image "
          f"({speed_up.min():.2f}-{speed_up.max():.2f}); wall {np.median(wall_speed_up):.2f}x "
          f"({wall_speed_up.min():.2f}-{wall_speed_up.max():.2f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

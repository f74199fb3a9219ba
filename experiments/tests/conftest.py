"""Fixtures of the experiments' tests: the real dataset and a one-epoch tiny run."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest

from model.data import DatasetError, load_fashion_mnist


@pytest.fixture(scope="session")
def fashion_mnist():
    """The real dataset, or a skip that says how to install it."""
    try:
        return load_fashion_mnist()
    except DatasetError as error:
        pytest.skip(f"Fashion-MNIST is not installed: {error}")


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory, fashion_mnist):
    """One epoch on 10,000 images with a narrow network (as tests/test_model.py's)."""
    from model.config import AugmentConfig, NetworkConfig, TrainConfig
    from model.train import train

    out = tmp_path_factory.mktemp("tiny_run")
    config = TrainConfig(epochs=1, batch_size=32, optimizer="adamw", learning_rate=2e-3,
                         weight_decay=1e-4, schedule="constant", train_limit=10000,
                         validation_size=2000, seed=3,
                         network=NetworkConfig(stem_filters=16, block_filters=(24, 32),
                                               dense_units=64),
                         augment=AugmentConfig(erasing_probability=0.0))
    return out, train(config, out, verbose=0)

"""Shared fixtures. Qt tests run offscreen; nothing here needs ../shared or a webcam."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402

from model.data import DatasetError, load_fashion_mnist  # noqa: E402


@pytest.fixture(scope="session")
def fashion_mnist():
    """The real dataset, or a skip that says how to install it."""
    try:
        return load_fashion_mnist()
    except DatasetError as error:
        pytest.skip(f"Fashion-MNIST is not installed: {error}")

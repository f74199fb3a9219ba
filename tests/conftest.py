"""Shared fixtures. Qt tests run offscreen; nothing here needs ../shared or a webcam.

Every test that uses the fashion_mnist fixture, directly or through another fixture, gets the
`dataset` marker. A test that imports TensorFlow (itself or through model.train, model.network, a
Keras predictor...) must be marked `tensorflow`: the hook below fails an unmarked test that pulls
TensorFlow in, so that `-m "not tensorflow"` runs without it (as the runtime does). `slow` means
more than a few seconds; a `tensorflow` test also gets `slow`, since importing TensorFlow alone
takes about 6 s here, so that `-m "not slow"` is the fast loop.
"""

import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest
from PyQt5.QtCore import QStandardPaths

from model.data import DatasetError, load_fashion_mnist

QStandardPaths.setTestModeEnabled(True)  # No test reads or writes the user's own data folders.


@pytest.fixture(scope="session")
def fashion_mnist():
    """The real dataset, or a skip that says how to install it."""
    try:
        return load_fashion_mnist()
    except DatasetError as error:
        pytest.skip(f"Fashion-MNIST is not installed: {error}")


def pytest_collection_modifyitems(items):
    """Every user of the real data (directly or through another fixture) is marked `dataset`;
    every `tensorflow` test is also `slow`."""
    for item in items:
        if "fashion_mnist" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.dataset)
        if item.get_closest_marker("tensorflow") is not None:
            item.add_marker(pytest.mark.slow)


def pytest_collection_finish(session):
    """Test modules must not import TensorFlow at the top: collection would pull it in."""
    if "tensorflow" in sys.modules:
        raise pytest.UsageError("A test module imports TensorFlow when it is collected; "
                                "import it inside the tensorflow tests that need it.")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    item.tensorflow_loaded_before = "tensorflow" in sys.modules


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Fails a test not marked `tensorflow` that imported TensorFlow (in its fixtures or its
    body)."""
    outcome = yield
    report = outcome.get_result()
    if (call.when == "teardown" and not getattr(item, "tensorflow_loaded_before", True)
            and "tensorflow" in sys.modules and item.get_closest_marker("tensorflow") is None):
        report.outcome = "failed"
        report.longrepr = f"{item.nodeid} imports TensorFlow but is not marked tensorflow."

# Two commands do all set-up on a fresh Debian/Ubuntu machine with Python 3.11:
#   make run    - virtual environment, runtime install, the app on the shipped model
#   make test   - everything the tests need (apt dataset package too), ruff, then the whole suite
PYTHON ?= python3
MAKEFLAGS += --no-print-directory
VENV ?= .venv
BIN = $(VENV)/bin
# apt-get through sudo when not root; skipped (with a message) where there is neither.
SUDO := $(shell [ "$$(id -u)" = 0 ] && echo "" || (command -v sudo >/dev/null && echo sudo || echo none))
# Libraries that PyQt5's bundled Qt loads for a window (xcb) or offscreen.
QT_APT_PACKAGES = libgl1 libegl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3 \
	libglib2.0-0 libxcb-icccm4 libxcb-keysyms1 libxcb-xinerama0 libxcb-image0 \
	libxcb-render-util0 libxcb-randr0 libxcb-shape0 libxcb-xkb1

.PHONY: run test venv install install-test apt-packages qt-packages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip

venv: $(BIN)/python

install: venv
	$(BIN)/pip install -e .

install-test: venv
	$(MAKE) apt-packages APT_PACKAGES="dataset-fashion-mnist $(QT_APT_PACKAGES)"
	$(BIN)/pip install -e ".[test]"

qt-packages:
	$(MAKE) apt-packages APT_PACKAGES="$(QT_APT_PACKAGES)"

# Installs APT_PACKAGES when apt-get is there and we are root or have sudo; else says what to do.
apt-packages:
	@if ! command -v apt-get >/dev/null; then \
		echo "No apt-get: install $(APT_PACKAGES) by other means (Fashion-MNIST: set FASHION_MNIST_DIR); tests that need them are skipped."; \
	elif [ "$(SUDO)" = none ]; then \
		echo "Neither root nor sudo: skipping apt packages ($(APT_PACKAGES)); tests that need them are skipped."; \
	else \
		dpkg -s $(APT_PACKAGES) >/dev/null 2>&1 || { $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q $(APT_PACKAGES); }; \
	fi

run: install qt-packages
	$(BIN)/python -m camera_app $(ARGS)

test: install-test
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache

# The Intel environment: TensorFlow 2.15 (Keras 2) with the Intel Extension for TensorFlow, in
# its own virtual environment, since it needs numpy < 2 and opencv 4.x (see docs/benchmark.md).
INTEL_VENV ?= .venv-intel
INTEL_REQUIREMENTS = requirements/intel.txt

.PHONY: intel-env benchmark

intel-env: $(INTEL_VENV)/.installed

$(INTEL_VENV)/.installed: $(INTEL_REQUIREMENTS) pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if (3, 9) <= sys.version_info[:2] <= (3, 11) else \
		"TensorFlow 2.15 needs Python 3.9 to 3.11: run make intel-env PYTHON=python3.11")'
	$(PYTHON) -m venv $(INTEL_VENV)
	$(INTEL_VENV)/bin/pip install --upgrade pip
	$(INTEL_VENV)/bin/pip install -r $(INTEL_REQUIREMENTS)
	$(INTEL_VENV)/bin/pip install --no-deps -e .
	touch $@

# Both environments, interleaved in the same rounds, into one table: docs/benchmark.md
# (about 25 minutes; ARGS="--quick" for a check that writes to runs/ instead of docs/).
BENCHMARK_OUTPUT = $(if $(findstring --quick,$(ARGS)),runs/benchmark/benchmark,docs/benchmark)

benchmark: install-test intel-env
	$(BIN)/python -m model.benchmark --also-python $(INTEL_VENV)/bin/python \
		--json $(BENCHMARK_OUTPUT).json --markdown $(BENCHMARK_OUTPUT).md $(ARGS)

# The shipped model (assets/): one run from scratch at 48-96-144 filters, 60 epochs, with 20% of
# every batch labelled photos (and 16 random views of each photo, segmented at jittered
# settings): model.train's defaults, so only the data is named here. PHOTOS holds train/,
# validation/ and labels.csv. Training took 48.9 min on 2 cores here (docs/experiments.md). It
# writes runs/shipped/ (MODEL_OUT), then the int8
# export the app runs (fashion_cnn.tflite; the float32 one as fashion_cnn_float32.tflite), checked
# against the float one, with its figures in the card, and the calibration of both files
# (model.calibrate: the temperature into the card, the threshold it chooses printed; set
# model.classes.ANSWER_THRESHOLD to it), then the detector of garments of none of the ten
# (model.fit_other_garments: hats, shorts and skirts, into the card; exit status 1, which make
# lets pass, when no threshold keeps the labelled folders' answers); copy its files to assets/
# once validation has chosen it.
PHOTOS ?= ../shared/clothing-dataset
MODEL_OUT ?= runs/shipped

.PHONY: model

model: install-test
	$(BIN)/python -m model.train --out $(MODEL_OUT) --photos $(PHOTOS)/train \
		--photo-labels $(PHOTOS)/labels.csv --validation-photos $(PHOTOS)/validation \
		--validation-photo-labels $(PHOTOS)/labels.csv --quiet
	$(BIN)/python -m model.export $(MODEL_OUT)/fashion_cnn.keras --quantize \
		--photos $(PHOTOS)/validation --photo-labels $(PHOTOS)/labels.csv
	for file in fashion_cnn.tflite fashion_cnn_float32.tflite; do \
		$(BIN)/python -m model.calibrate --model $(MODEL_OUT)/$$file \
			--photos $(PHOTOS)/validation --photo-labels $(PHOTOS)/labels.csv || exit 1; \
		$(BIN)/python -m model.fit_other_garments --model $(MODEL_OUT)/$$file \
			--photos $(PHOTOS)/train --labels $(PHOTOS)/labels.csv \
			--validation-photos $(PHOTOS)/validation --validation-labels $(PHOTOS)/labels.csv \
			--other-folders hat shorts skirt; [ $$? -le 1 ] || exit 1; \
	done

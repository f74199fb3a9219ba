"""The benchmark's form: quick mode runs end to end and writes every row; no speed is asserted."""

import json
import subprocess
import sys

import pytest

from model.benchmark.__main__ import main
from model.benchmark.report import compute_ratios, format_markdown, speed_ups, summarise
from model.benchmark.variants import OPTIONAL_WORKERS, RATIOS, VARIANTS

VARIANTS_BY_WORKER = {variant.name: variant.worker for variant in VARIANTS}


def make_row(name, samples, environment="stock"):
    variant = next(variant for variant in VARIANTS if variant.name == name)
    return {"name": name, "environment": environment, "description": variant.description,
            "unit": variant.unit, "better": "lower" if variant.unit == "ms" else "higher",
            "samples": samples, **summarise(samples)}


def test_speed_up_reads_the_same_way_for_latency_and_throughput():
    slow_latency, fast_latency = make_row("latency_keras_predict", [100.0, 50.0]), \
        make_row("latency_litert", [1.0, 2.0])
    assert speed_ups(fast_latency, slow_latency) == [100.0, 25.0]
    fast_throughput, slow_throughput = make_row("train_bf16_mixed", [300.0, None, 200.0]), \
        make_row("train_fp32_onednn", [100.0, 100.0, 400.0])
    # The failed middle round is left out rather than counted.
    assert speed_ups(fast_throughput, slow_throughput) == [3.0, 0.5]


def test_summary_of_failed_measurements_is_empty_not_zero():
    assert summarise([None, None]) == {"median": None, "min": None, "max": None}
    assert summarise([3.0, None, 1.0, 2.0]) == {"median": 2.0, "min": 1.0, "max": 3.0}


def test_itex_is_compared_with_stock_round_by_round():
    rows = [make_row("train_fp32_onednn", [100.0, 200.0], "stock"),
            make_row("train_fp32_onednn", [150.0, 500.0], "intel")]
    environments = [{"key": "stock", "itex": None}, {"key": "intel", "itex": "2.15.0.0"}]
    itex_ratios = [ratio for ratio in compute_ratios(rows, environments)
                   if ratio["comparison"].startswith("with ITEX")]
    assert len(itex_ratios) == 1
    assert itex_ratios[0]["per_round"] == [1.5, 2.5]
    assert itex_ratios[0]["environment"] == "intel vs stock"


def test_bad_arguments_are_refused_with_a_message(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["--rounds", "0"])
    assert "--rounds must be at least 1" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--from-json", str(tmp_path / "missing.json")])
    assert "cannot read" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--also-python", str(tmp_path / "no-python")])
    assert "make intel-env" in capsys.readouterr().err


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    """`python -m model.benchmark --quick` as a user runs it: one round, a few steps."""
    folder = tmp_path_factory.mktemp("benchmark")
    completed = subprocess.run(
        [sys.executable, "-m", "model.benchmark", "--quick", "--json", str(folder / "b.json"),
         "--markdown", str(folder / "b.md")], capture_output=True, text=True, timeout=600)
    return completed, folder


@pytest.mark.slow
def test_quick_mode_writes_every_row_with_a_measurement(quick_run):
    completed, folder = quick_run
    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-2000:]
    report = json.loads((folder / "b.json").read_text())
    assert report["mode"] == "quick" and report["errors"] == []
    assert report["machine"]["cpu_model"] and report["machine"]["cpu_count"] >= 1
    (environment,) = report["environments"]
    assert environment["tensorflow"] and environment["keras"] and environment["ai_edge_litert"]
    assert environment["key"] == ("intel" if environment["itex"] else "stock")
    assert sorted(row["name"] for row in report["rows"]) == sorted(v.name for v in VARIANTS)
    measured = set()
    for row in report["rows"]:
        if row["skipped"]:
            # Only an optional runtime (OpenVINO) may be missing, and it says why.
            assert VARIANTS_BY_WORKER[row["name"]] in OPTIONAL_WORKERS, row
            assert "not installed" in row["skipped"] and row["samples"] == [], row
            continue
        measured.add(row["name"])
        assert len(row["samples"]) == report["config"]["rounds"] == 1, row
        assert row["median"] > 0 and row["min"] <= row["median"] <= row["max"], row
    expected_ratios = {label for label, candidate, baseline in RATIOS
                       if {candidate, baseline} <= measured}
    assert {ratio["comparison"] for ratio in report["ratios"]} == expected_ratios
    for ratio in report["ratios"]:
        assert ratio["median"] > 0, ratio
    # Progress: a line per process (three training variants, three runtimes).
    assert completed.stdout.count("[round 1/1]") == 6


@pytest.mark.slow
def test_quick_mode_markdown_names_machine_versions_and_rows(quick_run):
    completed, folder = quick_run
    markdown = (folder / "b.md").read_text()
    report = json.loads((folder / "b.json").read_text())
    assert report["machine"]["cpu_model"] in markdown
    assert f"TF {report['environments'][0]['tensorflow']}" in markdown
    for variant in VARIANTS:
        assert variant.description in markdown, variant.name
    # Regenerating from the JSON alone gives the same tables.
    assert format_markdown(report, str(folder / "b.json")) == markdown


@pytest.mark.tensorflow
def test_a_keras_file_keras_cannot_load_gives_its_weights_at_the_widths_of_its_card(
        tmp_path, monkeypatch):
    # Keras 2.15 (the Intel environment) reads the weights of a Keras 3 file but not its layers.
    import keras

    from model.benchmark import worker
    from model.config import NetworkConfig
    from model.network import build_network

    saved = build_network(NetworkConfig(stem_filters=5, block_filters=(6, 9), dense_units=16))
    path = tmp_path / "fashion_cnn.keras"
    saved.save(path)
    (tmp_path / "model_card.json").write_text(json.dumps(
        {"architecture": {"stem_filters": 5, "block_filters": [6, 9], "dense_units": 16,
                          "head_dropout": 0.3}}))
    monkeypatch.setattr(worker, "SHIPPED_KERAS_MODEL", path)

    def cannot_read(*args, **kwargs):
        raise ValueError("unknown layer config")

    monkeypatch.setattr(keras.models, "load_model", cannot_read)
    model, source = worker.load_keras_model()
    assert "card's widths" in source
    assert model.count_params() == saved.count_params()
    for loaded, original in zip(model.get_weights(), saved.get_weights()):
        assert (loaded == original).all()

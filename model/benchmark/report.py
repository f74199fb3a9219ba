"""Summaries, ratios and tables of a benchmark report, in text and markdown."""

from __future__ import annotations

import statistics
from pathlib import Path

from model.benchmark.profile import format_profile
from model.benchmark.variants import ITEX_RATIO_ROWS, RATIOS


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
    if report.get("step_profile"):
        parts += format_profile(report["step_profile"]) + [""]
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
        f"Training: images/s from the median of {config['train_steps']} `model.fit` steps of "
        f"{config['train_batch_size']} synthetic images, after {config['train_warmup_steps']} "
        "warm-up steps. One image: the median of timed calls after warm-up. Batch: "
        f"{config['inference_batch_size']} images per call. Every round runs each training "
        "variant, and each runtime's inference variants, in a fresh process, in a rotated order. "
        "Median and spread (lowest, highest) are over rounds; each ratio is taken within a round, "
        "and above 1 means the first-named side is faster.",
        "",
        "## Measurements",
        "",
        *markdown_table(("Variant", "Environment", "Median", "Spread (min - max)", "Rounds"),
                        table_rows(report)),
        "",
        "## Ratios",
        "",
        *markdown_table(("Comparison", "Environment", "Median", "Spread (min - max)", "Rounds"),
                        ratio_rows(report)),
        "",
        *(["## Where a training step's time goes", "", *format_profile(report["step_profile"]),
            ""] if report.get("step_profile") else []),
        f"Command: `{report.get('command', 'python -m model.benchmark')}` "
        "(see `python -m model.benchmark --help`).",
        "",
    ]
    if report["errors"]:
        lines += ["## Failures", ""] + [f"- round {error['round']}, {error['job']} "
                                        f"({error['python']}): {error['error']}"
                                        for error in report["errors"]] + [""]
    return "\n".join(lines)

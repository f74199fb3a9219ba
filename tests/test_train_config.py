"""model.train --config FILE: a JSON of TrainConfig fields, overridden by explicit options."""

import dataclasses
import json

import pytest

from model.config import NetworkConfig, PhotoConfig, TrainConfig


def test_a_config_file_is_read_and_explicit_options_override_it(tmp_path):
    from model.train import parse_config

    saved = TrainConfig(epochs=3, learning_rate=0.02, optimizer="sam", sam_rho=0.1,
                        network=NetworkConfig(stem_filters=8, block_filters=(8, 16),
                                              head_dropout=0.3),
                        photos=PhotoConfig(photos="some/dir", photo_share=0.3))
    path = tmp_path / "best.json"
    path.write_text(json.dumps(dataclasses.asdict(saved)))
    config, _, _ = parse_config(["--config", str(path)])
    assert config == saved
    config, _, _ = parse_config(["--config", str(path), "--epochs", "40", "--block-filters",
                                 "16", "32", "--no-mirror-images"])
    assert config == dataclasses.replace(
        saved, epochs=40, network=dataclasses.replace(saved.network, block_filters=(16, 32)),
        augment=dataclasses.replace(saved.augment, mirror_images=False))
    path.write_text(json.dumps({"learning_rate": 1, "network": {"dense_units": 32}}))
    config, _, _ = parse_config(["--config", str(path)])
    assert config.learning_rate == 1.0 and config.network.dense_units == 32
    assert config.epochs == TrainConfig.epochs  # Fields not in the file keep their defaults.


def test_a_config_file_of_before_the_renaming_still_reads(tmp_path):
    """Saved configurations name the mirror augmentation 'flip' and hold removed fields."""
    from model.train import parse_config

    path = tmp_path / "old.json"
    path.write_text(json.dumps({"augment": {"flip": False, "shift_pixels": 2},
                                "pipeline_probability": 0.0, "warmup_epochs": 2}))
    config, _, _ = parse_config(["--config", str(path)])
    assert config.augment.mirror_images is False


@pytest.mark.parametrize("content, message", [
    (None, "cannot read it"),
    ("{epochs: 3", "not JSON"),
    ("[1, 2]", "must be a JSON object"),
    ('{"epoch": 3}', "unknown field 'epoch'"),
    ('{"network": {"widths": 3}}', "unknown field 'network.widths'"),
    ('{"epochs": "3"}', "field 'epochs' must be int, got '3'"),
    ('{"epochs": 2.5}', "field 'epochs' must be int"),
    ('{"augment": {"mirror_images": 1}}', "field 'augment.mirror_images' must be bool"),
    ('{"pipeline_probability": 0.3}', "'pipeline_probability' was removed"),
    ('{"warmup_epochs": 5}', "is always 2 now"),
    ('{"network": {"block_filters": 64}}', "must be a non-empty list of int"),
    ('{"network": 3}', "field 'network' must be a JSON object"),
])
def test_a_bad_config_file_gets_a_clear_error(tmp_path, capsys, content, message):
    from model.train import main

    path = tmp_path / "config.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(SystemExit) as stop:
        main(["--config", str(path), "--out", str(tmp_path / "out")])
    assert stop.value.code == 2
    error = capsys.readouterr().err
    assert f"--config {path}: " in error and message in error, error
    assert "Traceback" not in error
    assert not (tmp_path / "out").exists()

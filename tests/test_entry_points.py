"""Every command line answers --help: one test over all entry points, in process."""

import importlib
import importlib.util

import pytest

# Entry point (python -m NAME) -> words its help must hold besides its usage line.
ENTRY_POINTS = {
    "camera_app": ["--source", "--taught", "space pauses"],
    "camera_app.benchmark": ["--taught"],
    "camera_app.make_demo": [],
    "camera_app.teach_check": ["--teach-frames"],
    "segmentation": ["--classify", "--hue-tolerance"],
    "segmentation.evaluate": ["--labels", "--other-folders"],
    "segmentation.benchmark": [],
    "model.data": ["--download"],
    "model.train": ["--photos", "--config"],
    "model.evaluate": ["--photos"],
    "model.calibrate": [],
    "model.fit_other_garments": ["--other-folders"],
    "model.tune": ["--trials"],
    "model.taught": ["count"],
    "model.benchmark": [],
    "model.export": [],
}
IMPORTS_TENSORFLOW = {"model.export"}


def module_of(entry_point: str) -> str:
    """The module whose main() runs for `python -m entry_point`."""
    package = importlib.util.find_spec(entry_point).submodule_search_locations
    return entry_point + ".__main__" if package else entry_point


@pytest.mark.parametrize("entry_point", [
    pytest.param(name, marks=[pytest.mark.tensorflow] if name in IMPORTS_TENSORFLOW else [])
    for name in ENTRY_POINTS])
def test_every_entry_point_has_help(entry_point, capsys):
    with pytest.raises(SystemExit) as stop:
        importlib.import_module(module_of(entry_point)).main(["--help"])
    assert stop.value.code == 0
    help_text = " ".join(capsys.readouterr().out.split())
    assert help_text.startswith(f"usage: python -m {entry_point} ")
    for words in ENTRY_POINTS[entry_point]:
        assert words in help_text, words

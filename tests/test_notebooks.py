"""Every notebook is a jupytext pair in sync, with a tagged parameters cell and a paper profile."""
import json
from pathlib import Path

import jupytext
import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
SOURCES = sorted(NOTEBOOKS.glob("[0-9]*.py"))


def test_there_are_notebooks():
    assert SOURCES, "no notebooks/NN_*.py sources found"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_pair_in_sync_and_output_free(source):
    ipynb = source.with_suffix(".ipynb")
    assert ipynb.is_file(), f"{ipynb.name} missing: run `make sync`"
    paired = nbformat.read(ipynb, as_version=4)
    text = jupytext.read(source)
    cells = lambda nb: [(c.cell_type, c.source.strip(), c.metadata.get("tags", [])) for c in nb.cells]
    assert cells(paired) == cells(text), f"{source.name} and {ipynb.name} differ: run `make sync`"
    assert all(not c.get("outputs") for c in paired.cells if c.cell_type == "code"), "commit notebooks without outputs"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_parameters_cell_and_profiles(source):
    nb = jupytext.read(source)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "exactly one cell tagged 'parameters'"
    first_code = next(c for c in nb.cells if c.cell_type == "code")
    assert "import depthrep_utils as du" in first_code.source, "the first code cell is the setup cell"
    assert len(first_code.source.strip().splitlines()) < 10 and "sys.path" not in first_code.source, \
        "the setup cell stays a few lines: the project is installed (make setup), no path search"
    names = {line.split(":")[0].strip() for line in tagged[0].source.splitlines() if ":" in line and "=" in line}
    assert "PROFILE" in names
    paper = json.loads((NOTEBOOKS / "profiles.json").read_text())["paper"].get(source.stem)
    assert paper, f"notebooks/profiles.json has no paper profile for {source.stem}"
    assert set(paper) <= names, f"paper profile sets unknown parameters {set(paper) - names}"
    for line in tagged[0].source.splitlines():
        if "=" in line:
            assert "#" in line, f"parameter without a comment giving the paper's value: {line}"

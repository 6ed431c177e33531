"""Every notebook is a jupytext pair in sync, with a tagged parameters cell and a paper profile."""
import json
import re
from pathlib import Path

import jupytext
import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
SOURCES = sorted(NOTEBOOKS.glob("[0-9]*.py"))


def _colab_cell() -> str:
    """Notebook 01's first code cell; every notebook must carry the same."""
    return next(c for c in jupytext.read(SOURCES[0]).cells if c.cell_type == "code").source


COLAB_CELL = _colab_cell() if SOURCES else ""


def test_there_are_notebooks():
    assert SOURCES, "no notebooks/NN_*.py sources found"


def test_colab_cell_installs_from_the_address_in_citation_cff(monkeypatch):
    """Run the Colab cell as Colab would (google.colab imported, the project not installed): it installs from
    CITATION.cff's repository-code, or, while there is none, stops with what to do; elsewhere it does nothing."""
    import importlib.util
    import sys
    import types

    import update_docs

    address = update_docs.repository_url()
    assert f"REPOSITORY = {address!r}  #" in COLAB_CELL, "run scripts/update_docs.py: the cell's address is stale"
    calls = []

    class Shell:
        def run_line_magic(self, magic, line):
            calls.append((magic, line))

    def run(repository, colab=True, installed=False):
        source = re.sub(r"^REPOSITORY = .*?  #", f"REPOSITORY = {repository!r}  #", COLAB_CELL, flags=re.M)
        with monkeypatch.context() as m:
            if colab:
                m.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
            real = importlib.util.find_spec
            m.setattr(importlib.util, "find_spec",
                      lambda name, *a: (real(name, *a) if installed else None) if name == "depthrep_utils"
                      else real(name, *a))
            exec(source, {"get_ipython": Shell})
    run("https://github.com/someone/depthrep", colab=False)
    run("https://github.com/someone/depthrep", installed=True)
    assert calls == [], "the cell installs nothing outside Colab or when the project is there"
    run("https://github.com/someone/depthrep")
    assert calls == [("pip", "install --quiet git+https://github.com/someone/depthrep")]
    with pytest.raises(RuntimeError, match="CITATION.cff names no repository-code.*make wheel"):
        run(None)


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
    colab, setup = [c for c in nb.cells if c.cell_type == "code"][:2]
    assert colab.source == COLAB_CELL, "the first code cell is the Colab install cell, the same in every notebook"
    assert "import depthrep_utils as du" in setup.source, "the second code cell is the setup cell"
    assert len(setup.source.strip().splitlines()) < 10 and "sys.path" not in setup.source, \
        "the setup cell stays a few lines: the project is installed (make setup), no path search"
    names = {line.split(":")[0].strip() for line in tagged[0].source.splitlines() if ":" in line and "=" in line}
    assert "PROFILE" in names
    profiles = json.loads((NOTEBOOKS / "profiles.json").read_text())
    assert set(profiles) == {"cpu", "paper"}, "profiles.json defines cpu (2-core CPU, <= 1 h) and paper"
    for name, table in profiles.items():
        assert table.get(source.stem), f"notebooks/profiles.json has no {name} profile for {source.stem}"
        assert set(table[source.stem]) <= names, f"{name} profile sets unknown parameters {set(table[source.stem]) - names}"
    for line in tagged[0].source.splitlines():
        if "=" in line:
            assert "#" in line, f"parameter without a comment giving the paper's value: {line}"


def test_git_filter_strips_what_running_a_notebook_adds(tmp_path):
    """Running a notebook (outputs, counts, language_info, widget state, timings) leaves no change for git."""
    import subprocess
    import sys

    root = NOTEBOOKS.parent
    committed = SOURCES[0].with_suffix(".ipynb")
    nb = nbformat.read(committed, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="ran\n")]
            cell.execution_count = 3
            cell.metadata["execution"] = {"iopub.status.busy": "2026-11-26T10:00:00Z"}
    nb.metadata["language_info"] = {"name": "python", "version": "3.11.7"}
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    ran = tmp_path / "ran.ipynb"
    nbformat.write(nb, ran)
    out = subprocess.run([sys.executable, str(root / "scripts" / "strip_notebook.py")], stdin=ran.open(),
                         capture_output=True, text=True, check=True).stdout
    assert out == committed.read_text()
    attributes = (root / ".gitattributes").read_text()
    assert "*.ipynb filter=strip-notebook" in attributes


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_kernelspec_is_the_one_jupyter_writes(source):
    """JupyterLab rewrites a kernelspec that differs from the running kernel's: the pair would change on save."""
    from jupyter_client.kernelspec import KernelSpecManager

    spec = KernelSpecManager().get_kernel_spec("python3")
    assert jupytext.read(source).metadata["kernelspec"] == {"display_name": spec.display_name,
                                                             "language": spec.language, "name": "python3"}


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_notebook_lines_fit_100_characters(source):
    long = [(i, len(line)) for i, line in enumerate(source.read_text().splitlines(), 1) if len(line) > 100]
    assert not long, f"{source.name}: lines over 100 characters (line, length): {long}"

"""Git clean filter: a notebook without outputs, execution counts or widget state (set up by `make setup`).

    git config filter.strip-notebook.clean "python3 scripts/strip_notebook.py"   # .gitattributes: *.ipynb

Reads a notebook (JSON) on stdin and writes it to stdout with every code cell's outputs and execution
count cleared and only the metadata the paired .py carries kept, so running a notebook in JupyterLab leaves
nothing for git to see. Standard library only: git runs it with whatever python3 is on the PATH.
"""
import json
import sys


KEEP = ("jupytext", "kernelspec")  # the notebook metadata the paired .py file carries too
RUNTIME = ("execution", "ExecuteTime", "scrolled", "collapsed", "jupyter")  # cell metadata a run or a view adds


def strip(nb: dict) -> dict:
    """Clear outputs and execution counts and drop what running or viewing a notebook adds (timings, scroll
    state, language_info, widget state); keep the metadata the paired .py carries."""
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code":
            cell["outputs"], cell["execution_count"] = [], None
        cell["metadata"] = {k: v for k, v in cell.get("metadata", {}).items() if k not in RUNTIME}
    nb["metadata"] = {k: v for k, v in nb.get("metadata", {}).items() if k in KEEP}
    return nb


if __name__ == "__main__":
    text = sys.stdin.read()
    try:
        nb = json.loads(text)
    except ValueError:  # not JSON (a merge conflict, say): leave it to the user
        sys.stdout.write(text)
    else:
        sys.stdout.write(json.dumps(strip(nb), indent=1, ensure_ascii=False) + "\n")

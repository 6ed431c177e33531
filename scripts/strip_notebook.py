"""Git clean filter: a notebook without outputs, execution counts or widget state (set up by `make setup`).

    git config filter.strip-notebook.clean "python3 scripts/strip_notebook.py"   # .gitattributes: *.ipynb

Reads a notebook (JSON) on stdin and writes it to stdout with every code cell's outputs and execution
count cleared and the notebook's widget state dropped, so running a notebook in JupyterLab leaves nothing
for git to see. Standard library only: git runs it with whatever python3 is on the PATH.
"""
import json
import sys


def strip(nb: dict) -> dict:
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code":
            cell["outputs"], cell["execution_count"] = [], None
        cell.get("metadata", {}).pop("execution", None)
    nb.get("metadata", {}).pop("widgets", None)
    return nb


if __name__ == "__main__":
    text = sys.stdin.read()
    try:
        nb = json.loads(text)
    except ValueError:  # not JSON (a merge conflict, say): leave it to the user
        sys.stdout.write(text)
    else:
        sys.stdout.write(json.dumps(strip(nb), indent=1, ensure_ascii=False) + "\n")

"""depthrep: the code behind the notebooks that reproduce Badger (2022), "Depth and Representation in
Vision Models". Notebooks import it through the thin face ``depthrep_utils`` (``import depthrep_utils as
du``); each module here is one concern, named for it (see depthrep_utils.py for the table of contents).
"""
from pathlib import Path

_HERE = Path(__file__).resolve().parent
# A source checkout keeps data/ and results/ beside the package; an installed copy (e.g. on Colab) uses
# the working directory.
ROOT = _HERE.parent if (_HERE.parent / "pyproject.toml").is_file() else Path.cwd()

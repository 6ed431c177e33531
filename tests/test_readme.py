"""The README's code is true: its recipe for your own image or model runs as printed (fewer steps)."""
import re
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _section_code(title: str) -> str:
    text = (ROOT / "README.md").read_text()
    section = text.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]
    return re.search(r"```python\n(.*?)```", section, flags=re.S).group(1)


@pytest.mark.slow
def test_your_own_image_recipe_runs_on_an_image_file(tmp_path, capsys):
    from PIL import Image

    code = _section_code("Your own image or model")
    photo = tmp_path / "my_photo.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (50, 70, 4), dtype=np.uint8)).save(photo)  # RGBA
    assert '"astronaut"' in code and "steps=200" in code
    exec(code.replace('"astronaut"', repr(str(photo))).replace("steps=200", "steps=10"), {})
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("['features.0', 'features.1'") and len(lines) == 6, lines
    m_i = [float(re.search(r"m_i = (\S+)", line).group(1)) for line in lines[1:]]
    assert all(np.isfinite(m_i)), m_i

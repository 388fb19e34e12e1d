"""The README's first example runs as written (in a scratch directory)."""

import ast
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _python_blocks() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```python\n(.*?)```", text, re.S)


def test_readme_quick_example_runs(tmp_path: Path) -> None:
    block = _python_blocks()[0]
    script = tmp_path / "example.py"
    script.write_text(block, encoding="utf-8")
    out = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True,
                         text=True, timeout=60, env={"PYTHONPATH": str(ROOT), "PATH": ""})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "Hello, world!"
    assert (tmp_path / "hello.db").exists()


def test_readme_mentions_the_two_commands() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    head = text[: text.index("```python")]
    assert "make demo" in head and "make test" in head


def test_readme_other_blocks_compile() -> None:
    for block in _python_blocks()[1:]:
        compile(block, "README.md", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)

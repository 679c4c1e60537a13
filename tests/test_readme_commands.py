"""The README's set-up commands are the ones CI runs: `.ci/run` calls the README's test command."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ci_runs_the_readme_test_command() -> None:
    readme = ROOT / "README.md"
    blocks = re.findall(r"```bash\n(.*?)\n```", readme.read_text(), flags=re.S)
    assert blocks[0].strip() == "python -m pip install -e '.[dev]' && responsesim run"
    test_command = blocks[1].strip()
    assert test_command == "bash scripts/test.sh"
    ci = (ROOT / ".ci" / "run").read_text()
    assert f"exec {test_command}" in ci
    script = (ROOT / "scripts" / "test.sh").read_text()
    # the script installs what the tests need before running them, and waits for the apt lock
    assert "pip install -q -e '.[dev]'" in script and "chromium" in script and "Lock::Timeout" in script
    assert script.rstrip().endswith('exec python -m pytest -n 2 "$@"')

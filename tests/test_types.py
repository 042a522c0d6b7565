"""The package type-checks: ``mypy jixiao`` (configured in pyproject.toml) reports no error."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_mypy_reports_no_error(monkeypatch):
    api = pytest.importorskip("mypy.api", reason="mypy is not installed")
    monkeypatch.chdir(ROOT)  # mypy reads [tool.mypy] of pyproject.toml from the working directory
    stdout, stderr, status = api.run(["jixiao"])
    errors = [line for line in stdout.splitlines() if "error:" in line]
    assert errors == [], "\n".join(errors)
    assert status == 0, stdout + stderr

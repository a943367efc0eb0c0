"""docs/: the Sphinx documentation builds without a single warning."""

import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).parents[1]

pytest.importorskip("sphinx")
pytest.importorskip("numpydoc")


def test_docs_build_without_warnings(tmp_path):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         "-d", str(tmp_path / "doctrees"), str(ROOT / "docs"), str(tmp_path / "html")],
        capture_output=True, text=True, timeout=600, env=env,
    )
    assert result.returncode == 0, result.stderr[-5000:]
    results = (tmp_path / "html" / "results.html").read_text()
    # the results page's tables come from benchmarks/results/*.json
    for path in (ROOT / "benchmarks" / "results").glob("*.json"):
        assert path.name in results
    assert "<table" in results
    assert "nengo_lmu.networks.memory.LegendreMemory" in (
        tmp_path / "html" / "api.html"
    ).read_text()

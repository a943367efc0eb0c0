"""Sphinx configuration of the nengo_lmu documentation.

Build: ``sphinx-build -W -b html docs docs/_build/html`` (tests/test_docs.py
does, warnings as errors). The results page's tables are generated at build
time from ``benchmarks/results/*.json`` by ``_ext/benchmark_results.py``.
"""

import os
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "docs" / "_ext"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import nengo_lmu  # noqa: E402

project = "nengo_lmu"
author = "nengo_lmu contributors"
copyright = "nengo_lmu contributors"  # noqa: A001  pylint: disable=redefined-builtin
version = release = nengo_lmu.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "benchmark_results",
]

# `name` in docstrings is a cross-reference to a Python object
default_role = "py:obj"
autosummary_generate = False  # the API pages list their members with autodoc
autodoc_member_order = "bysource"
numpydoc_show_class_members = False
numpydoc_xref_param_type = False
numpydoc_validation_checks = set()

#: where the benchmark JSON files are (read by the benchmark_results extension)
benchmark_results_dir = str(ROOT / "benchmarks" / "results")

exclude_patterns = ["_build"]
html_theme = "alabaster"
html_static_path = []
templates_path = []

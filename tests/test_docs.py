"""docs/: the Sphinx documentation builds without a single warning."""

import html.parser
import json
import os
import pathlib
import subprocess
import sys

import numpydoc  # noqa: F401  (the docs' extension: fail, not skip, without it)
import pytest
import sphinx  # noqa: F401

ROOT = pathlib.Path(__file__).parents[1]


class Tables(html.parser.HTMLParser):
    """The tables of an HTML page, each under the rubric before it: a list of
    rows (lists of cell texts) per rubric."""

    def __init__(self):
        super().__init__()
        self.tables, self.rubric, self.text = {}, None, None
        self.in_rubric = False

    def handle_starttag(self, tag, attrs):
        if tag == "p" and ("class", "rubric") in attrs:
            self.in_rubric, self.rubric = True, ""
        elif tag == "table":
            self.tables[self.rubric] = []
        elif tag == "tr":
            self.tables[self.rubric].append([])
        elif tag in ("td", "th"):
            self.text = ""

    def handle_endtag(self, tag):
        if tag == "p":
            self.in_rubric = False
        elif tag in ("td", "th"):
            self.tables[self.rubric][-1].append(" ".join(self.text.split()))
            self.text = None

    def handle_data(self, data):
        if self.in_rubric:
            self.rubric += data
        elif self.text is not None:
            self.text += data


def plain(text):
    return text.replace("\u2019", "'").replace("\u2018", "'")  # Sphinx's smart quotes


def assert_shows(cell, value, where):
    """``cell`` shows ``value``: 4 significant digits for a float (so within
    half a unit of the fourth), exactly otherwise; mean +- std for both."""
    if isinstance(value, dict):
        mean, std = cell.split(" ± ")
        assert_shows(mean, value["mean"], where)
        assert_shows(std, value["std"], where)
    elif isinstance(value, float):
        assert float(cell) == pytest.approx(value, rel=5.01e-4), where
    else:
        assert plain(cell) == plain(str(value)), where


def leaves(data, prefix=""):
    """(path "a / b", value) of every figure outside lists, and of short lists
    of integers or strings (seeds, names) as "a, b"; mean/std pairs whole."""
    for key, value in data.items():
        if isinstance(value, dict) and not ("mean" in value and "std" in value):
            yield from leaves(value, f"{prefix}{key} / ")
        elif not isinstance(value, list):
            yield f"{prefix}{key}", value
        elif 0 < len(value) <= 20 and all(
            isinstance(v, (int, str)) and not isinstance(v, bool) for v in value
        ):
            yield f"{prefix}{key}", ", ".join(map(str, value))


def test_docs_build_without_warnings(tmp_path):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         "-d", str(tmp_path / "doctrees"), str(ROOT / "docs"), str(tmp_path / "html")],
        capture_output=True, text=True, timeout=600, env=env,
    )
    assert result.returncode == 0, result.stderr[-5000:]
    assert "nengo_lmu.networks.memory.LegendreMemory" in (
        tmp_path / "html" / "api.html"
    ).read_text()

    # the results page's tables show the figures of benchmarks/results/*.json,
    # read here from the JSON and the rendered HTML, not from the extension
    parser = Tables()
    parser.feed((tmp_path / "html" / "results.html").read_text())
    paths = sorted((ROOT / "benchmarks" / "results").glob("*.json"))
    assert paths and set(p.name for p in paths) <= set(parser.tables)
    for path in paths:
        data = json.loads(path.read_text())
        header, *rows = parser.tables[path.name]
        table = {plain(row[0]): row[1:] for row in rows}
        assert len(table) == len(rows), path.name  # no row twice
        summarised = "benchmark" in data and any(  # a variant: metrics of mean +- std
            isinstance(v, dict) and v and all(isinstance(m, dict) and "mean" in m
                                              for m in v.values())
            for v in data.values()
        )
        if summarised:  # benchmarks/common.py's summarise: variant x metric
            variants = {k: v for k, v in data.items() if k not in ("benchmark", "config")}
            variants = {k: v for k, v in variants.items() if isinstance(v, dict)}
            assert variants and set(map(plain, variants)) == set(table), path.name
            for variant, metrics in variants.items():
                row = table[plain(variant)]
                for metric, value in metrics.items():
                    cell = row[header.index(f"{metric} NRMSE") - 1]
                    assert_shows(cell, value, f"{path.name}: {variant}, {metric}")
        else:  # one row per figure
            figures = dict(leaves(data))
            assert set(figures) == set(table), path.name
            for name, value in figures.items():
                assert_shows(table[name][0], value, f"{path.name}: {name}")

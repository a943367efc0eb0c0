"""Sphinx extension: tables of ``benchmarks/results/*.json``, made at build time.

``.. benchmark-results:: NAME`` renders ``NAME.json`` from the folder in the
``benchmark_results_dir`` config value; without an argument, every JSON file
there, in name order. Nothing is typed by hand: rerunning a benchmark and
rebuilding the docs updates the page.

Two layouts are known:

* benchmarks/common.py's ``summarise``: ``{"benchmark", "config", "seconds",
  variant: {metric: {"mean", "std", "per_seed"}}}``, one row per variant,
  one column per metric (mean ± std over seeds);
* anything else: one row per scalar, found by flattening nested objects
  (``a / b / c``), with ``{"mean", "std"}`` objects shown as mean ± std and
  lists (per-seed runs, raw timings) left out.
"""

import json
import pathlib

from docutils import nodes
from docutils.parsers.rst import Directive, directives
from docutils.statemachine import StringList
from sphinx.errors import ExtensionError


def _number(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, int):
        return str(value)
    return f"{value:.4g}"


def _mean_std(value):
    return f"{_number(value['mean'])} ± {_number(value['std'])}"


def _is_mean_std(value):
    return isinstance(value, dict) and "mean" in value and "std" in value


def _list_table(header, rows, widths=None):
    lines = [".. list-table::", "   :header-rows: 1"]
    if widths:
        lines.append(f"   :widths: {' '.join(map(str, widths))}")
    lines.append("")
    for row in [header] + rows:
        lines.append(f"   * - {row[0]}")
        lines.extend(f"     - {cell}" for cell in row[1:])
    return lines + [""]


def summary_table(data):
    """Lines of reST for benchmarks/common.py's ``summarise`` layout."""
    variants = {
        k: v
        for k, v in data.items()
        if isinstance(v, dict) and v and all(_is_mean_std(m) for m in v.values())
    }
    metrics = []
    for results in variants.values():
        metrics += [m for m in results if m not in metrics]
    rows = [
        [variant] + [_mean_std(r[m]) if m in r else "" for m in metrics]
        for variant, r in variants.items()
    ]
    seeds = data.get("config", {}).get("seeds")
    lines = _list_table(["variant"] + [f"{m} NRMSE" for m in metrics], rows)
    config = ", ".join(
        f"{k} = {_number(v)}" for k, v in data.get("config", {}).items() if k != "seeds"
    )
    note = f"Mean ± standard deviation over {len(seeds)} seeds. " if seeds else ""
    return lines + [f"{note}Configuration: {config}.", ""]


def _has_variants(data):
    """Whether ``data`` has a variant of the ``summarise`` layout (metrics of mean ± std)."""
    return any(
        isinstance(v, dict) and v and all(_is_mean_std(m) for m in v.values())
        for v in data.values()
    )


def _flatten(data, prefix=""):
    for key, value in data.items():
        name = f"{prefix}{key}"
        if _is_mean_std(value):
            yield name, _mean_std(value)
        elif isinstance(value, dict):
            yield from _flatten(value, f"{name} / ")
        elif isinstance(value, list):
            if _is_label_list(value):  # seeds, names: shown; runs, timings: not
                yield name, ", ".join(map(str, value))
        else:
            yield name, _number(value)


def _is_label_list(value):
    """A short list of integers or strings (seeds, dataset names)."""
    return 0 < len(value) <= 20 and all(
        isinstance(v, (int, str)) and not isinstance(v, bool) for v in value
    )


def generic_table(data):
    """Lines of reST for any other layout: one row per scalar."""
    return _list_table(["quantity", "value"], [list(r) for r in _flatten(data)], [3, 2])


def render(path):
    """reST lines for one results file."""
    data = json.loads(pathlib.Path(path).read_text())
    lines = [f".. rubric:: {pathlib.Path(path).name}", ""]
    if not isinstance(data, dict):
        lines += ["(not a JSON object: not tabulated)", ""]
    elif "benchmark" in data and "config" in data and _has_variants(data):
        lines += summary_table(data)
        if "seconds" in data:
            lines += [f"Run time: {data['seconds']} s.", ""]
    else:
        lines += generic_table(data)
    return lines


class BenchmarkResults(Directive):
    """The ``benchmark-results`` directive."""

    optional_arguments = 1
    has_content = False
    option_spec = {"dir": directives.unchanged}

    def run(self):
        env = self.state.document.settings.env
        folder = pathlib.Path(self.options.get("dir", env.config.benchmark_results_dir))
        if self.arguments:
            paths = [folder / f"{self.arguments[0]}.json"]
        else:
            paths = sorted(folder.glob("*.json"))
        lines = []
        for path in paths:
            if not path.exists():
                raise ExtensionError(f"benchmark-results: no {path}")
            env.note_dependency(str(path))
            lines += render(path)
        node = nodes.container()
        self.state.nested_parse(StringList(lines, source=str(folder)), self.content_offset, node)
        return node.children


def setup(app):
    app.add_config_value("benchmark_results_dir", "", "env")
    app.add_directive("benchmark-results", BenchmarkResults)
    return {"version": "1.0", "parallel_read_safe": True}

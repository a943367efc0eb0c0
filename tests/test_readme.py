"""README.rst: its quick start runs, it holds the two set-up commands, and its
results table quotes benchmarks/results/*.json."""

import json
import pathlib
import re
import subprocess
import sys

import numpy as np

ROOT = pathlib.Path(__file__).parents[1]
README = (ROOT / "README.rst").read_text()


def code_blocks(language):
    pattern = rf"\.\. code-block:: {language}\n\n((?:   .*\n|\n)+)"
    return [
        "\n".join(line[3:] for line in block.splitlines())
        for block in re.findall(pattern, README)
    ]


def test_quick_start_runs():
    (quick_start,) = code_blocks("python")
    result = subprocess.run(
        [sys.executable, "-c", quick_start], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    error = float(re.search(r"delay error \(RMS\): ([0-9.]+)", result.stdout).group(1))
    assert error < 0.01  # order 8 delays 2 Hz noise by theta/2 almost exactly


def test_two_setup_commands():
    (setup,) = code_blocks("bash")
    commands = [line for line in setup.splitlines() if line.strip()]
    assert len(commands) == 2
    assert commands[0].startswith("pip install") and commands[0].endswith("# setup: install")
    assert commands[1].endswith("# setup: test")
    # .ci/run reads them from the README by these markers
    ci = (ROOT / ".ci" / "run").read_text()
    assert "# setup: install" in ci and "# setup: test" in ci


RESULTS = ROOT / "benchmarks" / "results"

#: one figure: "mean ± std", a range "low-high" or one number, each number
#: with optional thousands separators, then an optional "%" or "x"
NUMBER = r"[0-9][0-9,]*(?:\.[0-9]+)?"
FIGURE = re.compile(
    rf"(?P<mean>{NUMBER}) ± (?P<std>{NUMBER})(?P<unit> ?%|x)?"
    rf"|(?P<low>{NUMBER})[-–](?P<high>{NUMBER})(?P<range_unit> ?%|x)?"
    rf"|(?P<value>{NUMBER})(?P<value_unit> ?%|x)?"
)

#: per-seed values of the entries of files without ``per_seed`` lists
#: (psdigits.py, psdigits_spiking.py), found in each of their ``runs``
PER_RUN = {
    "test_accuracy": ("test_accuracy",),
    "rate_accuracy": ("rate", "test_accuracy"),
    "reference_accuracy": ("reference", "accuracy"),
    "loihi_emulator_accuracy": ("loihi_emulator", "accuracy"),
    "loihi_emulator_nengo_loihi_defaults_accuracy": (
        "loihi_emulator_nengo_loihi_defaults", "accuracy"),
    "synaptic_events_per_digit": ("reference", "synaptic_events_per_digit"),
    "loihi_emulator_synaptic_events_per_digit": (
        "loihi_emulator", "synaptic_events_per_digit"),
}


def results_section():
    """The README's Results section, parsed by docutils."""
    from docutils import nodes  # pylint: disable=import-outside-toplevel
    from docutils.core import publish_doctree  # pylint: disable=import-outside-toplevel

    # halt on reST errors: a broken table would otherwise check nothing
    doctree = publish_doctree(README, settings_overrides=dict(report_level=5, halt_level=3))
    (section,) = [
        s for s in doctree.findall(nodes.section) if s[0].astext() == "Results"
    ]
    return section


def text_of(node):
    """A node's text without footnote references (auto-numbered: digits)."""
    from docutils import nodes  # pylint: disable=import-outside-toplevel

    return "".join(
        t.astext()
        for t in node.findall(nodes.Text)
        if not isinstance(t.parent, (nodes.footnote_reference, nodes.comment))
    )


def lookup(source):
    """The results entry ``FILE / key / key ...`` names, its file's data and
    the per-seed values behind it (None where the file holds none)."""
    name, *keys = [part.strip() for part in source.split(" / ")]
    path = RESULTS / name
    assert path.exists(), f"{source}: no {path}"
    data = json.loads(path.read_text())
    entry = data
    for i, key in enumerate(keys):
        assert isinstance(entry, dict), f"{source}: {' / '.join(keys[:i])} is no object"
        if key not in entry and f"{key}_mean" in entry and i == len(keys) - 1:
            # psdigits.py's layout: "test_accuracy_mean", "test_accuracy_std"
            entry = {"mean": entry[f"{key}_mean"], "std": entry[f"{key}_std"]}
        else:
            assert key in entry, f"{source}: no key {key!r}"
            entry = entry[key]
    per_seed = None
    if isinstance(entry, dict) and "per_seed" in entry:
        per_seed = entry["per_seed"]
    elif len(keys) == 1 and keys[0] in PER_RUN:
        per_seed = []
        for run in data["runs"]:
            for key in PER_RUN[keys[0]]:
                run = run[key]
            per_seed.append(run)
    return entry, data, per_seed


def printed(value, like, scale):
    """``value * scale`` printed as ``like`` is (decimals, thousands separator)."""
    decimals = len(like.split(".")[1]) if "." in like else 0
    separator = "," if "," in like else ""
    return f"{value * scale:{separator}.{decimals}f}"


def seed_count(data):
    """Seeds of a results file: its config's, or one per run."""
    if "seeds" in data.get("config", {}):
        return len(data["config"]["seeds"])
    return len(data["runs"])


def check_figure(figure, marker, column, footnoted):
    """Compare one table cell's figure with the entry its marker names."""
    kind, _, source = marker.partition(":")
    kind, source = kind.strip(), source.strip()
    assert source, f"{figure[0]!r}: empty marker {marker!r}"
    if kind == "published":
        # a published figure that no results file holds: only in the
        # "published" column, one value or range (no mean ± std, which
        # would be a measurement), with a footnote that says where it is from
        assert column == "published", f"{figure[0]!r} is sourced '{marker}' in {column!r}"
        assert figure["mean"] is None, f"{figure[0]!r}: a measurement, sourced '{marker}'"
        assert footnoted, f"{figure[0]!r}: sourced '{marker}' without a footnote"
        return None
    assert kind == "source", f"{figure[0]!r}: unknown marker {marker!r}"
    entry, data, per_seed = lookup(source)
    unit = figure["unit"] or figure["range_unit"] or figure["value_unit"] or ""
    scale = 100 if "%" in unit else 1
    if figure["mean"] is not None:
        assert isinstance(entry, dict) and {"mean", "std"} <= entry.keys(), (
            f"{source} is no mean and standard deviation")
        for part in ("mean", "std"):
            assert printed(entry[part], figure[part], scale) == figure[part], (
                f"{figure[0]!r}: {source} / {part} is {entry[part] * scale:g}")
        if per_seed is not None:
            # the stated standard deviation: over seeds, population (ddof = 0);
            # per_seed lists are rounded to 4 decimals, hence the tolerance
            assert len(per_seed) == seed_count(data)
            assert abs(np.std(per_seed) - entry["std"]) <= 1e-4 + 1e-3 * entry["std"], (
                f"{source}: std is not np.std of its seeds")
    elif figure["low"] is not None:
        assert isinstance(entry, list) and len(entry) == 2, f"{source} is no range"
        for part, value in zip(("low", "high"), entry):
            assert printed(value, figure[part], scale) == figure[part], (
                f"{figure[0]!r}: {source} holds {entry}")
    else:
        assert isinstance(entry, (int, float)), f"{source} is no number"
        assert printed(entry, figure["value"], scale) == figure["value"], (
            f"{figure[0]!r}: {source} is {entry}")
    return data


def test_results_table_quotes_the_benchmarks():
    # every figure in the results table names its own results entry in a
    # comment of its cell ("source: FILE / key / ..."), and is compared with
    # that entry at the precision it is printed with (percentages: x100)
    from docutils import nodes  # pylint: disable=import-outside-toplevel

    section = results_section()
    (table,) = section.findall(nodes.table)
    (header,) = table.findall(nodes.thead)
    columns = [text_of(entry).strip() for entry in header.findall(nodes.entry)]
    assert columns == ["Benchmark (metric)", "measured here", "published"]
    (body,) = table.findall(nodes.tbody)
    rows = list(body.findall(nodes.row))
    files = {}
    figures = 0
    for row in rows:
        label, *cells = [entry for entry in row.children if isinstance(entry, nodes.entry)]
        where = text_of(label).strip()
        # the label describes; a measured figure in it would go unchecked
        assert not re.search(r"±|[0-9] ?%|[0-9]x\b", text_of(label)), where
        for column, cell in zip(columns[1:], cells):
            text = " ".join(text_of(p) for p in cell.findall(nodes.paragraph)).strip()
            markers = [c.astext() for c in cell.findall(nodes.comment)]
            if text == "—":  # nothing to compare with
                assert not markers, f"{where}, {column}: a source and no figure"
                continue
            found = list(FIGURE.finditer(text))
            # exactly one figure, nothing else, and exactly one source for it
            assert len(found) == 1 and found[0][0] == text, (
                f"{where}, {column}: {text!r} is not one figure")
            assert len(markers) == 1, f"{where}, {column}: {text!r} has no source"
            footnoted = any(True for _ in cell.findall(nodes.footnote_reference))
            data = check_figure(found[0], markers[0], column, footnoted)
            if data is not None:
                files[markers[0].partition(":")[2].split(" / ")[0].strip()] = data
            figures += 1
    assert figures >= 20

    # "over N seeds" holds for every results file the table quotes
    (seeds,) = re.findall(r"over ([0-9]+) seeds", section.astext())
    for name, data in files.items():
        assert seed_count(data) == int(seeds), f"{name}: {seed_count(data)} seeds"

    # no figure outside the table, where nothing would check it
    rest = [
        text_of(node) for node in section.children
        if not isinstance(node, (nodes.table, nodes.title, nodes.comment))
    ]
    for text in rest:
        assert not re.search(r"± ?[0-9]|[0-9] ?%|[0-9]x\b|[0-9]\.[0-9]{2,}", text), text

"""README.rst: its quick start runs, and it holds the two set-up commands."""

import pathlib
import re
import subprocess
import sys

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


def measured_pairs():
    """Every (mean, std) pair in benchmarks/results/*.json."""
    import json  # pylint: disable=import-outside-toplevel

    pairs = []

    def walk(x):
        if isinstance(x, dict):
            if isinstance(x.get("mean"), float) and isinstance(x.get("std"), float):
                pairs.append((x["mean"], x["std"]))
            for key, value in x.items():
                if key.endswith("_mean") and isinstance(value, float):
                    std = x.get(key[: -len("_mean")] + "_std")
                    if isinstance(std, float):
                        pairs.append((value, std))
                walk(value)
        elif isinstance(x, list):
            for value in x:
                walk(value)

    for path in sorted((ROOT / "benchmarks" / "results").glob("*.json")):
        walk(json.loads(path.read_text()))
    return pairs


def test_results_table_quotes_the_benchmarks():
    # the README's figures are typed, so check each "mean ± std" against the
    # results files at the precision it is printed with (percentages: x100)
    section = README.split("Results\n=======")[1].split("\nLicensing\n")[0]
    figures = re.findall(r"([0-9]+\.[0-9]+) ± ([0-9]+\.[0-9]+)( ?%)?", section)
    assert len(figures) >= 3
    pairs = measured_pairs()
    for mean, std, percent in figures:
        scale = 100 if percent else 1
        decimals = len(mean.split(".")[1])
        assert any(
            round(m * scale, decimals) == float(mean)
            and round(s * scale, len(std.split(".")[1])) == float(std)
            for m, s in pairs
        ), f"{mean} ± {std}{percent} is not in benchmarks/results/*.json"

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

"""examples/: every script runs in its reduced size (``--quick``) and reports."""

import os
import pathlib
import re
import subprocess
import sys

import pytest

EXAMPLES = pathlib.Path(__file__).parents[1] / "examples"

#: script -> a pattern its output must contain (the result it exists to show)
EXPECTED = {
    "legendre_memory.py": r"window NRMSE \(mean over delays\): (?P<value>[0-9.]+)",
    "delay_network.py": r"delay NRMSE, spiking memory: (?P<value>[0-9.]+)",
    "psmnist.py": r"using psDigits[\s\S]*test accuracy: (?P<value>[0-9.]+)",
    "mackey_glass.py": r"LMU: +(?P<value>[0-9.]+)",
    "loihi_deploy.py": r"Loihi emulator accuracy (?P<value>[0-9.]+)",
}

#: loose bounds on each reduced run's figure: they catch a broken pipeline,
#: not a regression in accuracy (the reduced runs are tiny)
BOUNDS = {
    "legendre_memory.py": (0, 0.05),  # exact memory, order 12, 1.5 Hz: measured 0.005
    "delay_network.py": (0, 0.3),  # 300 LIF: measured 0.12
    "psmnist.py": (0.3, 1),  # 2 epochs of psDigits: measured 0.64; chance 0.1
    "mackey_glass.py": (0, 1.2),  # measured 0.68 (persistence: 1.6)
    "loihi_deploy.py": (0, 1),  # 8 digits, 4 epochs: only that it runs
}


def test_every_example_is_tested():
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == sorted(EXPECTED)


@pytest.fixture(scope="module")
def runs():
    """All examples at once (they mostly wait on imports and one core each)."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", MPLBACKEND="Agg")
    procs = {
        name: subprocess.Popen(
            [sys.executable, str(EXAMPLES / name), "--quick"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )
        for name in EXPECTED
    }
    return {name: (p, *p.communicate(timeout=600)) for name, p in procs.items()}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_runs(runs, name):
    proc, stdout, stderr = runs[name]
    assert proc.returncode == 0, stderr[-3000:]
    match = re.search(EXPECTED[name], stdout)
    assert match, stdout
    low, high = BOUNDS[name]
    assert low <= float(match.group("value")) <= high, stdout

"""``nengo-lmu demo --quick``: the newcomer's first command."""

import os
import re
import subprocess
import sys

import pytest

from nengo_lmu.cli import main
from nengo_lmu.demo import PLOTS, STAGES


def run(*args, cwd=None):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    return subprocess.run(
        [sys.executable, "-m", "nengo_lmu", *args],
        capture_output=True, text=True, timeout=600, env=env, cwd=cwd,
    )


def test_demo_quick(tmp_path):
    result = run("demo", "--quick", "--out", str(tmp_path / "plots"))
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    # one table, a row per stage
    lines = out.splitlines()
    header = [
        i for i, line in enumerate(lines)
        if re.match(
            r"stage +accuracy +digits +agree +delay NRMSE +wall s +neurons +syn\. events$",
            line,
        )
    ]
    assert len(header) == 1, out
    table = lines[header[0]:]
    rows = {line[:31].strip(): line[31:].split() for line in table[2 : 2 + len(STAGES)]}
    assert list(rows) == list(STAGES)
    # accuracies of the quick run (32 units, 10 epochs, TensorFlow seeded:
    # the same figures on every run here): measured 0.844 rate (27 of 32
    # digits) and 0.781 spiking (25 of 32), 0.812 emulator (13 of 16), 0.735
    # on the training set; chance is 0.1. Each bound allows three digits fewer
    # than measured: other machines' TensorFlow kernels may round the
    # training differently
    assert float(rows["train (NengoDL)"][0]) > 0.65, out
    assert float(rows["rate (NengoDL)"][0]) > 0.72, out
    assert float(rows["spiking (reference)"][0]) > 0.68, out
    assert float(rows["spiking (Loihi emulator)"][0]) > 0.62, out
    assert rows["rate (NengoDL)"][1] == rows["spiking (reference)"][1] == "32"
    assert rows["spiking (Loihi emulator)"][1] == "16"
    # spiking predictions agree with the rate network's: measured 0.844 (27 of
    # 32) reference, 0.875 (14 of 16) emulator
    assert float(rows["spiking (reference)"][2]) > 0.72, out
    assert float(rows["spiking (Loihi emulator)"][2]) > 0.68, out
    # the exact order-6 memory of 1 Hz noise delays by theta/2 closely
    # (measured 0.048 over the 1 s scored); the neural one less well (0.089
    # reference, 0.26 emulator)
    assert float(rows["memory, exact"][3]) < 0.05
    assert float(rows["memory, neural (reference)"][3]) < 0.15
    assert float(rows["memory, neural (Loihi emulator)"][3]) < 0.4
    for stage in ("memory, neural (reference)", "spiking (reference)"):
        assert float(rows[stage][-1].replace(",", "")) > 0  # synaptic events
    for name in PLOTS:
        png = tmp_path / "plots" / name
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
        assert png.stat().st_size > 10_000


@pytest.mark.parametrize(
    "args, message",
    [
        (["demo", "--order", "0"], "argument --order: '0' is not positive"),
        (["demo", "--theta", "abc"], "argument --theta: 'abc' is not a number"),
        (["demo", "--neuron-type", "tanh"], "argument --neuron-type: invalid choice"),
        (["demo", "--presentation-time", "0.0105"], "not a whole number of 1 ms"),
        (["dmeo"], "invalid choice: 'dmeo'"),
    ],
)
def test_bad_options(args, message, capsys):
    with pytest.raises(SystemExit) as exc:
        main(args)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("nengo-lmu: error: "), err
    assert message in err


def test_bad_option_subprocess(tmp_path):
    # the console path too: one line, no traceback, status 2 (TensorFlow's
    # "Could not find TensorRT" lines, printed on import whatever
    # TF_CPP_MIN_LOG_LEVEL says, may come before it)
    (tmp_path / "file").write_text("")
    result = run("demo", "--quick", "--out", str(tmp_path / "file"))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        f"nengo-lmu: error: --out {str(tmp_path / 'file')!r} exists and is not a "
        "folder (see nengo-lmu demo --help)"
    )
    assert "Traceback" not in result.stderr and result.stdout == ""

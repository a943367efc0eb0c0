"""``nengo-lmu demo --quick``: the newcomer's first command."""

import os
import re
import subprocess
import sys
import warnings

import nengo
import numpy as np
import pytest

from nengo_lmu.cli import main
from nengo_lmu.cost import COUNTS as COSTS, InferenceCost
from nengo_lmu.demo import (
    COLUMNS,
    COUNT_UNITS,
    PLOTS,
    STAGES,
    DemoSettings,
    build_classifier,
    convert,
    describe_seconds,
    estimate_seconds,
    format_table,
    memory_network,
    plot_memory_window,
    plot_predictions,
    spiking_stage,
)

#: The rows of the table scored on the test digits (the train row scores the
#: training digits, and says so).
TEST_ROWS = ("rate (NengoDL)", "spiking (reference)", "spiking (Loihi emulator)")


def run(*args, cwd=None):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    return subprocess.run(
        [sys.executable, "-m", "nengo_lmu", *args],
        capture_output=True, text=True, timeout=600, env=env, cwd=cwd,
    )


def parse_table(lines):
    """The table in ``lines`` (from its header) as {stage: {heading: cell}}, the
    columns cut where the rule's dashes are."""
    spans = [m.span() for m in re.finditer(r"-+", lines[1])]
    headings = [lines[0][a:b].strip() for a, b in spans]
    table = {}
    for line in lines[2:]:
        if not line.strip():
            break
        cells = [line[a:b].strip() for a, b in spans]
        table[cells[0]] = dict(zip(headings, cells))
    return table


def library_warnings(record):
    """The warnings in ``record`` that nengo_lmu raised (by category or place)."""
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    package = os.path.join(here, "nengo_lmu")
    return [
        w for w in record
        if w.category.__module__.startswith("nengo_lmu")
        or os.path.abspath(w.filename).startswith(package)
    ]


def test_demo_quick(tmp_path):
    result = run("demo", "--quick", "--out", str(tmp_path / "plots"))
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    lines = out.splitlines()
    header = [i for i, line in enumerate(lines) if line.startswith("stage ")]
    assert len(header) == 1, out
    table = parse_table(lines[header[0]:])
    assert list(table) == list(STAGES), out
    assert list(table[STAGES[0]]) == [heading for heading, _, _, _ in COLUMNS]

    # every test row scores the same digits; the train row says it scores others
    assert {table[stage]["digits"] for stage in TEST_ROWS} == {"32 test"}, out
    assert table["train (NengoDL)"]["digits"].endswith(" train"), out
    # each column is explained above the table, a short line each
    legend = lines[: header[0]]
    for heading, _, _, text in COLUMNS[1:]:
        (line,) = [x for x in legend if x.startswith(f"  {heading}  ")]
        assert len(line) <= 100, line

    # accuracies of the quick run (32 units, 10 epochs, TensorFlow seeded: the
    # same figures on every run here), all on the same 32 test digits:
    # measured 0.844 rate (27 digits), 0.844 spiking reference, 0.812 emulator
    # (26), 0.735 on the training set; chance is 0.1. Each bound allows three
    # digits fewer than measured: other machines' TensorFlow kernels may round
    # the training differently
    accuracy = {stage: float(table[stage]["accuracy"]) for stage in STAGES[3:]}
    assert accuracy["train (NengoDL)"] > 0.65, out
    assert accuracy["rate (NengoDL)"] > 0.74, out
    assert accuracy["spiking (reference)"] > 0.74, out
    assert accuracy["spiking (Loihi emulator)"] > 0.71, out
    # spiking predictions agree with the rate network's: measured 1.0
    # reference, 0.938 emulator (30 of 32)
    assert float(table["spiking (reference)"]["agree"]) > 0.9, out
    assert float(table["spiking (Loihi emulator)"]["agree"]) > 0.8, out
    # the exact order-6 memory of 1 Hz noise delays by theta/2 closely
    # (measured 0.048 over the 1 s scored); the neural one less well (0.060
    # reference, 0.127 emulator; 0.213 there in the Legendre basis the demo
    # used to build, which warned)
    nrmse = {stage: float(table[stage]["delay NRMSE"]) for stage in STAGES[:3]}
    assert nrmse["memory, exact"] < 0.05
    assert nrmse["memory, neural (reference)"] < 0.12
    assert nrmse["memory, neural (Loihi emulator)"] < 0.2
    # synaptic events in the column of their unit
    for stage in STAGES[1:3]:
        assert float(table[stage]["syn. events/run"].replace(",", "")) > 0, stage
        assert table[stage]["syn. events/digit"] == "-"
    for stage in TEST_ROWS[1:]:
        assert float(table[stage]["syn. events/digit"].replace(",", "")) > 0, stage
        assert table[stage]["syn. events/run"] == "-"
    # energy, likewise (from conv.run's cost report for the LMU rows)
    for stage in STAGES[1:3]:
        assert float(table[stage]["J/run (Loihi)"]) > 0, stage
        assert table[stage]["J/digit (Loihi)"] == "-"
    for stage in TEST_ROWS[1:]:
        assert float(table[stage]["J/digit (Loihi)"]) > 0, stage
        assert table[stage]["J/run (Loihi)"] == "-"

    # off a terminal, a few lines of progress: the estimate, four stage lines,
    # a few for each progress bar; none of NengoDL's or Keras' own
    progress = lines[: lines.index(next(x for x in lines if x.startswith("nengo_lmu demo")))]
    assert len(progress) <= 20, out
    assert sum(x.startswith("[") and x[2:5] == "/4]" for x in progress) == 4, out
    assert not any("Constructing graph" in x or "Epoch" in x for x in progress), out
    # the estimate up front is of the right size (measured: 95-131 s on a
    # busy 2-core machine, estimated about 2 minutes)
    assert re.match(r"Expect about (a minute|\d+ minutes) in all", lines[0]), out
    total = float(re.search(r"^total (\d+) s$", out, re.M).group(1))
    estimate = estimate_seconds(DemoSettings.quick())
    assert estimate / 4 < total < estimate * 4, (estimate, total)

    # nothing on standard error but what a user can act on: no TensorRT or
    # "No GPU" notice, no warning from nengo_lmu about its own demo
    for notice in ("TensorRT", "No GPU", "Warning"):
        assert notice not in result.stderr, result.stderr
    for name in PLOTS:
        png = tmp_path / "plots" / name
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
        assert png.stat().st_size > 10_000


def test_count_columns_name_their_units():
    headings = {key: heading for heading, key, _, _ in COLUMNS}
    for key, unit in COUNT_UNITS.items():
        assert unit in headings[key], (key, headings[key])
    # the memory's events per run and the LMU's per digit never share a column
    rows = [
        dict(stage="memory", synaptic_events_run=2e7, neurons=480),
        dict(stage="lmu", synaptic_events_digit=5e4, digits=32, split="test"),
    ]
    for row in rows:
        for _, key, _, _ in COLUMNS:
            row.setdefault(key, None)
    table = parse_table(format_table(rows).splitlines())
    assert table["memory"]["syn. events/run"] == "20,000,000"
    assert table["memory"]["syn. events/digit"] == "-"
    assert table["lmu"]["syn. events/digit"] == "50,000"
    assert table["lmu"]["digits"] == "32 test"


class RecordingConversion:
    """Stands in for a SpikingConversion: records what `run` was given."""

    lmus = [type("LMU", (), {"units": 4})()]

    def __init__(self):
        self.sequences = None

    def find(self, obj, network):
        return obj

    def run(self, simulator, node, sequences, probe, parallel, progress_bar, **kwargs):
        self.sequences = sequences
        outputs = np.zeros((len(sequences), 1, 10))
        outputs[:, -1, 3] = 1
        cost = InferenceCost(stages={"hidden": dict.fromkeys(COSTS, 0.0)}, steps=1,
                             dt=0.001, spikes={0: {"hidden_synaptic_events": 10.0}})
        return outputs, cost


@pytest.mark.parametrize("stage", ["spiking (reference)", "spiking (Loihi emulator)"])
def test_spiking_rows_score_the_rate_rows_digits(stage):
    # the rate row scores data["x"]; each spiking row must run all of it (the
    # emulator used to run the first 16 of 32)
    rng = np.random.RandomState(0)
    net = type("Net", (), {"inp": "inp", "probe": "probe"})()
    data = dict(x=rng.rand(32, 64, 1), y=np.arange(32) % 10, rate=rng.rand(32, 10))
    conv = RecordingConversion()
    row, outputs = spiking_stage(conv, net, nengo.Simulator, data, stage, parallel=8)
    assert conv.sequences is data["x"]
    assert row["digits"] == len(outputs) == len(data["y"]) and row["split"] == "test"
    assert row["accuracy"] == np.mean(data["y"] == 3)


def frozen(net, rng):
    """``net`` with its initial weights drawn, as training would leave them
    (`.to_spiking` takes trained values), without TensorFlow."""
    for conn in net.all_connections:
        init = getattr(conn.transform, "init", None)
        if isinstance(init, nengo.dists.Distribution):
            shape = conn.transform.shape
            conn.transform = nengo.Dense(shape, init=init.sample(*shape, rng=rng))
    return net


def test_demo_network_raises_no_library_warning(tmp_path, capsys):
    settings = DemoSettings.quick(out=str(tmp_path))
    rng = np.random.RandomState(0)
    data = dict(x=rng.rand(2, 64, 1), y=np.array([1, 2]), rate=rng.rand(2, 10))
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        for simulator in ("nengo", "loihi"):
            memory_network(settings, simulator)
        net = frozen(build_classifier(settings), rng)
        conv = convert(net, settings, calibration=data["x"])  # as run_demo does
    assert library_warnings(record) == [], [str(w.message) for w in record]

    # the spiking runs, on two digits, warn of nothing the user should fix and
    # print a few lines of progress at most (stdout, captured, is no terminal)
    from nengo_lmu import loihi  # pylint: disable=import-outside-toplevel

    for simulator, kwargs in ((nengo.Simulator, {}), (loihi.Simulator, dict(target="sim"))):
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            spiking_stage(conv, net, simulator, data, "spiking", parallel=2, **kwargs)
        assert library_warnings(record) == [], [str(w.message) for w in record]
    assert len(capsys.readouterr().out.splitlines()) <= 8


def test_the_old_memory_warned():
    # the check above can fail: the memory the demo used to build (Legendre
    # coordinates, the same 0.1 s synapse and 1 Hz band) warns on Loihi
    from nengo_lmu import LegendreMemory  # pylint: disable=import-outside-toplevel
    from nengo_lmu.loihi_limits import (  # pylint: disable=import-outside-toplevel
        LargeTransformWarning,
    )

    s = DemoSettings.quick()
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        with nengo.Network():
            LegendreMemory(
                s.memory_order, s.memory_theta, n_neurons=10,
                neuron_type=nengo.SpikingRectifiedLinear(), synapse=s.memory_synapse,
                input_high=s.memory_high, input_rms=s.memory_rms, simulator="loihi",
            )
    assert any(issubclass(w.category, LargeTransformWarning) for w in record)
    assert len(library_warnings(record)) >= 1


def test_estimate_tells_quick_from_full():
    quick, full = estimate_seconds(DemoSettings.quick()), estimate_seconds(DemoSettings())
    assert 60 < quick < 300 and full > 5 * quick
    assert describe_seconds(30) == "about a minute"
    assert describe_seconds(600) == "about 10 minutes"
    assert describe_seconds(3 * 3600) == "about 3.0 hours"


def test_plots_label_what_they_show(tmp_path, monkeypatch):
    import nengo_lmu.demo  # pylint: disable=import-outside-toplevel

    figures = {}

    def keep(fig, out, name):
        figures[name] = fig
        return out / name

    monkeypatch.setattr(nengo_lmu.demo, "_save_figure", keep)
    settings = DemoSettings.quick(memory_time=1.1, memory_neurons=10)
    net = memory_network(settings, "nengo")
    with nengo.Simulator(net, progress_bar=False) as sim:
        sim.run(settings.memory_time)
    plot_memory_window(tmp_path, sim, net, settings)
    for ax in figures["memory_window.png"].axes:
        assert ax.get_ylabel()
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        assert "neural memory (reference simulator)" in labels

    # predictions against the true labels: right and wrong drawn apart
    labels = np.array([0, 1, 2, 3])
    right = np.eye(10)[labels]
    wrong = np.eye(10)[[0, 1, 2, 4]]
    plot_predictions(tmp_path, right, right, wrong, labels)
    ax = figures["predictions.png"].axes[1]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "true label" in legend
    colors = {line.get_label(): line.get_color() for line in ax.get_lines()}
    assert colors["spiking, Loihi emulator: wrong"] != colors["spiking, Loihi emulator: right"]
    (wrong_line,) = [x for x in ax.get_lines() if x.get_label().endswith("emulator: wrong")]
    assert list(wrong_line.get_ydata()) == [4]


@pytest.mark.parametrize(
    "args, message",
    [
        (["demo", "--order", "0"], "argument --order: '0' is not positive"),
        (["demo", "--theta", "abc"], "argument --theta: 'abc' is not a number"),
        (["demo", "--neuron-type", "tanh"], "argument --neuron-type: invalid choice"),
        (["demo", "--presentation-time", "0.0105"],
         "not a whole number (at least one) of the simulator's dt=0.001 s steps"),
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


def test_only_the_tensorrt_notice_is_hidden(capfd):
    # TensorFlow logs from C++ straight to file descriptor 2; the demo drops
    # that one line and keeps every other, Python's included
    from nengo_lmu.cli import _without_notices  # pylint: disable=import-outside-toplevel

    with _without_notices():
        os.write(2, b"2026-01-01 W py_utils.cc:38] TF-TRT Warning: Could not find TensorRT\n")
        os.write(2, b"something to act on\n")
        print("UserWarning: a warning to act on", file=sys.stderr)
    err = capfd.readouterr().err
    assert "TensorRT" not in err
    assert "something to act on" in err and "a warning to act on" in err

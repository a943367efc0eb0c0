"""Progress of long runs: to_spiking's calibration and SpikingConversion.run."""

import io
import sys
import time

import nengo
import numpy as np
import pytest
from nengo.exceptions import ValidationError
from nengo.utils.progress import (
    AutoProgressBar,
    NoProgressBar,
    Progress,
    ProgressBar,
    TerminalProgressBar,
    get_default_progressbar,
)

from nengo_lmu.progress import LinesProgressBar, as_progress_bar
from nengo_lmu.spiking import to_spiking
from test_spiking import classifier  # tests/test_spiking.py


class Recorder(ProgressBar):
    """Keeps what each update showed: (steps done, max steps, finished)."""

    def __init__(self):
        self.seen = []
        self.closed = False

    def update(self, progress):
        self.seen.append((progress.n_steps, progress.max_steps, progress.finished))

    def close(self):
        self.closed = True


class Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self):
        return True


class CountingSimulator(nengo.Simulator):
    """nengo.Simulator counting its ``run_steps`` calls."""

    calls = []

    def run_steps(self, steps):
        CountingSimulator.calls.append(steps)
        super().run_steps(steps)


def test_lines_progress_bar_writes_a_few_whole_lines(capsys):
    bar = LinesProgressBar(lines=4)
    with Progress("Running 1000 sequences", max_steps=1000) as progress:
        for _ in range(1000):
            progress.step()
            bar.update(progress)
            bar.update(progress)  # as often as a tracker's thread likes
    bar.update(progress)
    bar.update(progress)  # the end reported twice is written once
    out = capsys.readouterr().out
    assert "\r" not in out
    lines = out.splitlines()
    assert lines == [
        *(f"Running 1000 sequences... {p}%, ETA: {lines[i].split('ETA: ')[1]}"
          for i, p in enumerate((25, 50, 75))),
        lines[-1],
    ]
    assert lines[-1].startswith("Running 1000 sequences finished in")
    # a run that fails says so
    bar = LinesProgressBar()
    with pytest.raises(RuntimeError):
        with Progress("Calibrating", max_steps=10) as progress:
            raise RuntimeError
    bar.update(progress)
    assert capsys.readouterr().out.startswith("Calibrating stopped after")
    with pytest.raises(ValidationError) as exc:
        LinesProgressBar(lines=0)
    assert exc.value.attr == "lines"


def test_default_bar_is_nengos_on_a_terminal_and_lines_off_one(monkeypatch):
    monkeypatch.setattr(sys, "stdout", Terminal())
    bar = as_progress_bar(True)
    assert isinstance(bar, AutoProgressBar) and type(bar.delegate) is TerminalProgressBar
    monkeypatch.setattr(sys, "stdout", io.StringIO())  # a file, a pipe: not a terminal
    # nengo's own default does not look: its terminal bar, carriage returns and all
    nengos = get_default_progressbar()
    assert isinstance(nengos, AutoProgressBar) and type(nengos.delegate) is TerminalProgressBar
    bar = as_progress_bar(True)
    assert isinstance(bar, AutoProgressBar) and type(bar.delegate) is LinesProgressBar
    for off in (False, None):
        assert isinstance(as_progress_bar(off), NoProgressBar)
    given = TerminalProgressBar()
    assert as_progress_bar(given) is given  # a bar given is used as it is
    # nengo.rc still rules the default
    before = nengo.rc.get("progress", "progress_bar")
    try:
        nengo.rc.set("progress", "progress_bar", "False")
        assert isinstance(as_progress_bar(True), NoProgressBar)
    finally:
        nengo.rc.set("progress", "progress_bar", before)
    for bad in ("yes", 1, TerminalProgressBar):
        with pytest.raises(ValidationError) as exc:
            as_progress_bar(bad)
        assert exc.value.attr == "progress_bar"


def test_run_reports_progress_within_a_group_and_the_same_outputs(rng):
    # rate neurons: the outputs are deterministic up to rounding, so running in
    # pieces (to report progress) must give the same ones as one run_steps
    net = classifier()
    x = rng.uniform(0, 1, size=(4, 30, 1))
    conv = to_spiking(net, 0.01, neuron_type=None, progress_bar=False)
    CountingSimulator.calls = []
    quiet, _ = conv.run(CountingSimulator, net.inp, x, net.probe, parallel=4,
                        progress_bar=False)
    assert len(CountingSimulator.calls) == 1
    (run_length,) = CountingSimulator.calls
    CountingSimulator.calls = []
    recorder = Recorder()
    shown, _ = conv.run(CountingSimulator, net.inp, x, net.probe, parallel=4,
                        progress_bar=recorder)
    # one group of 4 in pieces of 3 presentations (30 steps, a tenth of the
    # 30 samples), the held last sample's read window included
    assert CountingSimulator.calls == [30] * (run_length // 30) + [run_length % 30]
    assert np.allclose(shown, quiet, rtol=0, atol=1e-12)
    # progress reached every sequence's every step, and the end was reported
    assert recorder.seen[-1] == (4 * run_length, 4 * run_length, True)
    assert recorder.closed
    steps = [done for done, _, _ in recorder.seen]
    assert steps == sorted(steps)


def test_calibration_reports_progress(rng):
    net = classifier()
    x = rng.uniform(0, 1, size=(5, 20, 1))
    recorder = Recorder()
    to_spiking(net, 0.01, calibration=(net.inp, x), progress_bar=recorder)
    # the network at rest, then each of the 5 sequences
    assert recorder.seen[-1] == (6, 6, True) and recorder.closed
    with pytest.raises(ValidationError) as exc:
        to_spiking(net, 0.01, progress_bar="yes")
    assert exc.value.attr == "progress_bar"


def test_off_a_terminal_a_long_run_prints_a_few_lines(capsys, rng):
    # pytest's capture is not a terminal, as a file or a pipe is not: the
    # default bar (progress_bar=True) must print whole lines, a few, where
    # nengo's terminal bar would redraw one line with carriage returns
    net = classifier()
    x = rng.uniform(0, 1, size=(8, 30, 1))
    conv = to_spiking(net, 0.01, calibration=(net.inp, x))
    calibration = capsys.readouterr().out
    start = time.time()
    conv.run(nengo.Simulator, net.inp, x, net.probe, parallel=8)
    seconds = time.time() - start
    out = capsys.readouterr().out
    for printed, name in ((calibration, "Calibrating on 8"), (out, "Running 8")):
        lines = printed.splitlines()
        assert "\r" not in printed
        assert 1 <= len(lines) <= 4, printed
        assert all(line.startswith(f"{name} sequences") for line in lines), printed
        assert lines[-1].startswith(f"{name} sequences finished in"), printed
    # a run long enough for nengo's default to show itself (its ETA over a
    # second) also reports how far it is before the end
    if seconds > 2:
        assert "%, ETA" in out, out

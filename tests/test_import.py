"""``import nengo_lmu`` is light: TensorFlow only when NengoDL builds something."""

import subprocess
import sys


def run(code):
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.split()


def test_import_does_not_load_tensorflow():
    out = run(
        "import sys, nengo_lmu, nengo_lmu.cli;"
        "nengo_lmu.LMU(4, 4, 1.0, add_to_container=False);"
        "print(*(m in sys.modules for m in ('tensorflow', 'nengo_dl', 'nengo_loihi')))"
    )
    assert out == ["False", "False", "False"]


def test_cli_help_does_not_load_tensorflow():
    out = run(
        "import sys, contextlib, io, nengo_lmu.cli\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n"
        "        nengo_lmu.cli.main(['demo', '--help'])\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print('tensorflow' in sys.modules)"
    )
    assert out == ["False"]


def test_nengo_dl_uses_the_native_builder_without_an_explicit_import():
    # the user imports nengo_dl and nengo_lmu, never nengo_lmu.dl
    out = run(
        "import sys, nengo, nengo_dl, nengo_lmu\n"
        "assert 'nengo_lmu.dl' not in sys.modules\n"
        "with nengo.Network() as net:\n"
        "    mem = nengo_lmu.LegendreMemory(4, 1.0, trainable_theta=True)\n"
        "    other = nengo_lmu.LegendreMemory(4, 1.0)\n"
        "    nengo.Connection(nengo.Node(1.0), mem.input, synapse=None)\n"
        "    nengo.Connection(nengo.Node(1.0), other.input, synapse=None)\n"
        "    p = nengo.Probe(other.output)\n"
        "with nengo_dl.Simulator(net, progress_bar=False) as sim:\n"
        "    sim.run_steps(3)\n"
        "import nengo_lmu.dl as dl\n"
        "ops = [type(op).__name__ for op in sim.model.operators]\n"
        "print(ops.count('SimLinearSystem'), ops.count('SimTimeScaledSystem'),"
        " ops.count('SimProcess'), round(float(sim.data[p][-1, 0]), 6) > 0)"
    )
    assert out == ["1", "1", "0", "True"]


def test_loihi_memory_needs_no_nengo_loihi():
    # simulator="loihi" lays a memory out for Loihi from plain numbers
    # (nengo_lmu.loihi_limits): it builds and runs where nengo-loihi is absent
    out = run(
        "import sys\n"
        "sys.modules['nengo_loihi'] = None  # import nengo_loihi now fails\n"
        "import nengo, nengo_lmu\n"
        "with nengo.Network(seed=0) as net:\n"
        "    mem = nengo_lmu.LegendreMemory(3, 0.1, n_neurons=20, simulator='loihi',"
        " weights=False)\n"
        "    nengo.Connection(nengo.Node(0.5), mem.input, synapse=None)\n"
        "with nengo.Simulator(net, progress_bar=False) as sim:\n"
        "    sim.run_steps(5)\n"
        "print(len(mem.state_ensembles))"
    )
    assert out == ["3"]

"""Issue 25, spiking conversion: every bad input to `to_spiking` and
`SpikingConversion.run` is refused up front, naming the parameter."""

import nengo
import numpy as np
import pytest
from nengo.exceptions import ValidationError

from nengo_lmu import LMU
from nengo_lmu.spiking import spiking_equivalent, synapse_delay, to_spiking

from helpers import assert_refuses
from test_spiking import classifier, stacked

NAN, INF = float("nan"), float("inf")
NET = classifier()
STACK = stacked()
SEQ = np.random.RandomState(0).uniform(0, 1, size=(1, 3, 1))


def conversion(**kwargs):
    return to_spiking(NET, 0.01, neuron_type=None, **kwargs)


def run(**kwargs):
    """``conv.run`` on SEQ with the converted node and probe, overridden by ``kwargs``."""
    conv = conversion()
    args = dict(simulator=nengo.Simulator, node=conv.find(NET.inp, NET), sequences=SEQ,
                probe=conv.find(NET.probe, NET))
    args.update(kwargs)
    return lambda: conv.run(**args)


def convert(*args, network=NET, **kwargs):
    return lambda: to_spiking(network, *args, **kwargs)


CASES = [
    # to_spiking
    ("network string", convert(0.01, network="net"), ValidationError, "network"),
    ("network is an LMU", convert(0.01, network=NET.lmu), ValidationError, "network"),
    ("presentation_time nan", convert(NAN), ValidationError, "presentation_time"),
    ("presentation_time inf", convert(INF), ValidationError, "presentation_time"),
    ("presentation_time string", convert("0.01"), ValidationError, "presentation_time"),
    ("presentation_time 0", convert(0.0), ValidationError, "presentation_time"),
    # shorter than the simulator step (the CLI's --presentation-time 1e-9)
    ("presentation_time < dt", convert(1e-9), ValidationError, "presentation_time"),
    ("presentation_time not whole steps", convert(0.0105), ValidationError,
     "presentation_time"),
    ("presentation_time < given dt", convert(0.01, dt=0.02), ValidationError,
     "presentation_time"),
    ("to_spiking dt nan", convert(0.01, dt=NAN), ValidationError, "dt"),
    ("to_spiking dt 0", convert(0.01, dt=0), ValidationError, "dt"),
    ("dt_train nan", convert(0.01, dt_train=NAN), ValidationError, "dt_train"),
    ("dt_train inf", convert(0.01, dt_train=INF), ValidationError, "dt_train"),
    ("dt_train negative", convert(0.01, dt_train=-1.0), ValidationError, "dt_train"),
    ("scale_firing_rates nan", convert(0.01, scale_firing_rates=NAN), ValidationError,
     "scale_firing_rates"),
    ("scale_firing_rates inf", convert(0.01, scale_firing_rates=INF), ValidationError,
     "scale_firing_rates"),
    ("scale_firing_rates 0", convert(0.01, scale_firing_rates=0), ValidationError,
     "scale_firing_rates"),
    # one scale per LMU (NET has one; STACK two)
    ("scale_firing_rates too many", convert(0.01, scale_firing_rates=[100, 200]),
     ValidationError, "scale_firing_rates"),
    ("scale_firing_rates too few", convert(0.01, network=STACK, scale_firing_rates=[100]),
     ValidationError, "scale_firing_rates"),
    ("scale_firing_rates empty", convert(0.01, scale_firing_rates=[]), ValidationError,
     "scale_firing_rates"),
    ("scale_firing_rates entry 0",
     convert(0.01, network=STACK, scale_firing_rates=[100, 0]), ValidationError,
     "scale_firing_rates"),
    ("scale_firing_rates entry negative",
     convert(0.01, network=STACK, scale_firing_rates=(-100, 100)), ValidationError,
     "scale_firing_rates"),
    ("scale_firing_rates entry nan",
     convert(0.01, network=STACK, scale_firing_rates=np.array([100, NAN])),
     ValidationError, "scale_firing_rates"),
    ("scale_firing_rates entry inf",
     convert(0.01, network=STACK, scale_firing_rates=[INF, 100]), ValidationError,
     "scale_firing_rates"),
    ("scale_firing_rates entry string",
     convert(0.01, network=STACK, scale_firing_rates=["100", 100]), ValidationError,
     "scale_firing_rates"),
    ("scale_firing_rates 2-d", convert(0.01, scale_firing_rates=[[100]]), ValidationError,
     "scale_firing_rates"),
    ("scale_firing_rates ragged",
     convert(0.01, network=STACK, scale_firing_rates=[100, [1, 2]]), ValidationError,
     "scale_firing_rates"),
    # a scale for a layer with none to scale (LIF, or neuron_type=None)
    ("scale_firing_rates for LIF",
     convert(0.01, network=classifier(nengo.LIFRate()), scale_firing_rates=[100]),
     ValidationError, "scale_firing_rates"),
    ("scale_firing_rates for rate neurons",
     convert(0.01, network=STACK, neuron_type=None, scale_firing_rates=[1, 100]),
     ValidationError, "scale_firing_rates"),
    ("synapse nan", convert(0.01, synapse=NAN), ValidationError, "synapse"),
    # an infinite filter never moves: every output would be 0
    ("synapse inf", convert(0.01, synapse=INF), ValidationError, "synapse"),
    ("synapse Lowpass(inf)", convert(0.01, synapse=nengo.Lowpass(INF)), ValidationError,
     "synapse"),
    ("synapse negative", convert(0.01, synapse=-0.01), ValidationError, "synapse"),
    ("synapse string", convert(0.01, synapse="x"), ValidationError, "synapse"),
    ("neuron_type string", convert(0.01, neuron_type="spikey"), ValidationError,
     "neuron_type"),
    ("neuron_type class", convert(0.01, neuron_type=nengo.LIF), ValidationError,
     "neuron_type"),
    ("neuron_type Direct", convert(0.01, neuron_type=nengo.Direct()), ValidationError,
     "neuron_type"),
    ("memory_kwargs list", convert(0.01, memory_kwargs=[("n_neurons", 10)]),
     ValidationError, "memory_kwargs"),
    ("simulator unknown", convert(0.01, simulator="spinnaker"), ValidationError,
     "simulator"),
    ("calibration not a pair", convert(0.01, calibration=SEQ), ValidationError,
     "calibration"),
    ("calibration node string", convert(0.01, calibration=("inp", SEQ)), ValidationError,
     "calibration"),
    ("calibration nan", convert(0.01, calibration=(NET.inp, SEQ * NAN)), ValidationError,
     "sequences"),
    ("calibration 2-d", convert(0.01, calibration=(NET.inp, SEQ[0])), ValidationError,
     "sequences"),
    ("calibration empty", convert(0.01, calibration=(NET.inp, SEQ[:0])), ValidationError,
     "sequences"),
    # the helpers
    ("spiking_equivalent scale nan",
     lambda: spiking_equivalent(nengo.RectifiedLinear(), scale=NAN), ValidationError, "scale"),
    ("spiking_equivalent scale 0",
     lambda: spiking_equivalent(nengo.RectifiedLinear(), scale=0), ValidationError, "scale"),
    ("spiking_equivalent string", lambda: spiking_equivalent("relu"), ValidationError,
     "neuron_type"),
    ("synapse_delay nan", lambda: synapse_delay(NAN), ValidationError, "synapse"),
    ("synapse_delay string", lambda: synapse_delay("x"), ValidationError, "synapse"),
    # run
    ("simulator string", run(simulator="nengo"), ValidationError, "simulator"),
    ("node string", run(node="inp"), ValidationError, "node"),
    ("node is a probe", run(node=conversion().find(NET.probe, NET)), ValidationError,
     "node"),
    ("node of another network", run(node=classifier().inp), ValidationError, "node"),
    ("probe string", run(probe="probe"), ValidationError, "probe"),
    ("probe of another network", run(probe=classifier().probe), ValidationError, "probe"),
    ("parallel 0", run(parallel=0), ValidationError, "parallel"),
    ("parallel nan", run(parallel=NAN), ValidationError, "parallel"),
    ("parallel 1.5", run(parallel=1.5), ValidationError, "parallel"),
    ("read_delay nan", run(read_delay=NAN), ValidationError, "read_delay"),
    ("read_delay negative", run(read_delay=-0.001), ValidationError, "read_delay"),
    ("read_delay a presentation", run(read_delay=0.01), ValidationError, "read_delay"),
    ("read_window nan", run(read_window=NAN), ValidationError, "read_window"),
    ("read_window inf", run(read_window=INF), ValidationError, "read_window"),
    ("run dt nan", run(dt=NAN), ValidationError, "dt"),
    ("run dt 0", run(dt=0), ValidationError, "dt"),
    ("dt longer than a presentation", run(dt=0.02), ValidationError, "presentation_time"),
    ("dt not dividing a presentation", run(dt=0.003), ValidationError,
     "presentation_time"),
    ("sequences 2-d", run(sequences=SEQ[0]), ValidationError, "sequences"),
    ("sequences empty", run(sequences=SEQ[:0]), ValidationError, "sequences"),
    ("sequences nan", run(sequences=SEQ * NAN), ValidationError, "sequences"),
    ("sequences wrong size", run(sequences=np.zeros((1, 3, 2))), ValidationError,
     "sequences"),
]


@pytest.mark.parametrize("call, error, name", [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_refused(call, error, name):
    assert_refuses(call, error, name)


def run_with(conv, **kwargs):
    return lambda: conv.run(nengo.Simulator, conv.find(NET.inp, NET), SEQ,
                            conv.find(NET.probe, NET), **kwargs)


def test_presentation_time_shorter_than_dt_is_refused_before_running():
    # the CLI's --presentation-time 1e-9 was blamed on read_delay by run: it
    # is refused by to_spiking for its dt (CASES), and by run for the
    # simulator's, naming presentation_time
    conv = to_spiking(NET, 1e-9, neuron_type=None, dt=1e-9)
    assert_refuses(run_with(conv, dt=0.001), ValidationError, "presentation_time")


def test_run_accepts_the_original_networks_node_and_probe():
    conv = to_spiking(NET, 0.01, neuron_type=None)
    converted, _ = run_with(conv)()
    original, _ = conv.run(nengo.Simulator, NET.inp, SEQ, NET.probe)
    assert np.array_equal(original, converted)
    assert conv.find(NET.inp) is conv.find(NET.inp, NET)  # the original by default
    assert_refuses(lambda: conv.find("inp"), ValidationError, "obj")
    assert_refuses(lambda: conv.find(NET.inp, nengo.Network()), ValidationError, "obj")
    assert_refuses(lambda: conv.find(NET.inp, "net"), ValidationError, "original")


def test_calibration_that_drives_no_hidden_neuron_is_refused():
    # all-zero data leaves the memory at rest: the hidden layer runs on its
    # biases alone, so its peak rate is not the data's (scale_firing_rates
    # would come out many times too large)
    error = assert_refuses(convert(0.01, calibration=(NET.inp, 0 * SEQ)), ValidationError,
                           "calibration")
    assert "hidden" in str(error)
    # and near-zero data: it moves the layer by a millionth of its peak, so
    # the rates it gives are still the biases' (2169 against the data's 1702
    # for 1e-9 * SEQ before this was refused)
    for tiny in (1e-9, 1e-6):
        assert_refuses(convert(0.01, calibration=(NET.inp, tiny * SEQ)), ValidationError,
                       "calibration")
    # so is data that silences every hidden neuron: no rate to measure
    with nengo.Network(seed=0) as quiet:
        quiet.inp = nengo.Node(np.zeros(1))
        quiet.lmu = LMU(
            4, 4, 8.0, hidden_neuron_type=nengo.RectifiedLinear(),
            input_kernel_init=-np.ones((4, 1)), memory_kernel_init=np.zeros((4, 4)),
            input_to_hidden=True)
        quiet.lmu.hidden.bias = np.ones(4)
        nengo.Connection(quiet.inp, quiet.lmu.input, synapse=None)
    assert_refuses(convert(0.01, network=quiet, calibration=(quiet.inp, SEQ + 2)),
                   ValidationError, "calibration")
    # the same data moving the network is accepted, and measures the data
    conv = to_spiking(NET, 0.01, calibration=(NET.inp, SEQ))
    assert conv.scale_firing_rates > 1


def test_default_read_delay_too_long_names_its_sources():
    # a synapse as long as a presentation: the default read_delay (its lag)
    # is refused naming read_delay, and saying where it came from
    conv = to_spiking(NET, 0.01, synapse=0.01)
    error = assert_refuses(run_with(conv), ValidationError, "read_delay")
    assert "synapse" in str(error)

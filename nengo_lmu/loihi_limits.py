"""Loihi's limits and nengo-loihi's constants, as plain numbers.

What a network must respect to run on Loihi through nengo-loihi 1.1, without
importing nengo-loihi (and TensorFlow with it): a `.LegendreMemory` laid out
for Loihi (``simulator="loihi"``) needs only these, and `nengo_lmu.loihi`, which
builds and checks with nengo-loihi, re-exports them.
"""

import nengo

from nengo_lmu.params import IntegerParam, check_param

#: nengo-loihi's ``model.decode_tau``: the Lowpass after decode neurons.
LOIHI_DECODE_TAU = 0.005

#: `nengo_lmu.loihi.Simulator`'s ``decode_tau`` (the Lowpass after host input
#: spikes and decode neurons) when the network needs no other: the filter a
#: chip ensemble's host inputs arrive through, and so its block's one filter.
INPUT_TAU = 0.001

#: Neuron types nengo-loihi 1.1 runs on the chip.
CHIP_NEURON_TYPES = (nengo.LIF, nengo.SpikingRectifiedLinear)

#: Compartments in one Loihi core.
MAX_COMPARTMENTS = 1024


def min_decoded_transform(n_neurons):
    """Smallest safe ``|transform|`` of a 1-D decoded connection on Loihi.

    Found by trial with nengo-loihi 1.1 (100-120 Hz, intercepts in
    [-1, 0.5]) for a 100-neuron SpikingRectifiedLinear ensemble (LIF
    tolerates somewhat smaller transforms); decoders shrink as
    ``1 / n_neurons``, so the limit grows with it. This returns
    ``0.08 * n_neurons / 100``, with a margin over that threshold
    (tests/test_loihi.py builds at this value and fails well below it).

    Parameters
    ----------
    n_neurons : int
        Neurons of the pre ensemble (at least 1).
    """
    n_neurons = check_param(IntegerParam("n_neurons", low=1), n_neurons)
    return 0.08 * n_neurons / 100


#: Largest ``|A'|`` (principle-3 recurrent transform) a Loihi realisation
#: keeps its accuracy at. Loihi's 8-bit weights quantise the large, mostly
#: cancelling recurrent inputs such transforms make. Found by sweeping the
#: synapse of tests/test_linear_network.py's delay on the emulator: the error
#: grew steadily with the largest ``|A'|``, little lost below this value, most of the
#: output lost a few times above it (no results file holds that sweep). A
#: measured guide, not a hard limit.
MAX_RECURRENT_TRANSFORM = 10.0


class LargeTransformWarning(UserWarning):
    """A network laid out for Loihi has recurrent transforms too large to keep
    its accuracy under 8-bit weights (`MAX_RECURRENT_TRANSFORM`)."""

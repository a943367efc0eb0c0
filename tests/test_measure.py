import nengo
import numpy as np
import pytest
from nengo.exceptions import ValidationError

from nengo_lmu import LMU
from nengo_lmu.measure import channel_encoders


def test_channel_encoders_against_numpy(rng):
    scales, offsets = np.array([0.1, 3.0, 40.0]), np.array([5.0, -1.0, 0.0])
    x = offsets + scales * rng.standard_normal((7, 50, 3))
    encoders = channel_encoders(x)
    # the population std over every series and step, dimension by dimension
    ref = [np.std(x[:, :, j].ravel()) for j in range(3)]
    assert np.allclose(encoders, np.diag(1 / np.array(ref)))
    assert np.allclose((x @ encoders.T).reshape(-1, 3).std(axis=0), 1)


def test_channel_encoders_keep_a_constant_dimension(rng):
    # (a constant 0.1's computed std is of order 1e-16, not 0)
    x = np.concatenate([rng.standard_normal((7, 100, 1)) * 2, np.full((7, 100, 1), 0.1)], axis=2)
    assert np.allclose(np.diag(channel_encoders(x)), [1 / x[:, :, 0].std(), 1.0])


@pytest.mark.parametrize("bad", [np.ones((5, 3)), np.ones((0, 4, 2)), [[[1.0, np.nan]]]])
def test_channel_encoders_check_sequences(bad):
    with pytest.raises(ValidationError, match="sequences"):
        channel_encoders(bad)


def test_channel_encoders_give_each_dimension_its_memory(rng):
    # in an LMU with memory_d = input_d, memory channel j sees dimension j
    # alone, at unit variance on the data the encoders were measured on
    x = np.array([0.5, 20.0]) * rng.standard_normal((1, 200, 2))
    x[0, :, 0] = 0  # ... so channel 0 stays at rest
    x[0, 100:, 0] = 0.5 * rng.standard_normal(100)
    with nengo.Network(seed=0) as net:
        stim = nengo.Node(nengo.processes.PresentInput(x[0], 1e-3))
        lmu = LMU(units=4, order=3, theta=0.05, input_d=2, memory_d=2,
                  input_encoders_init=channel_encoders(x))
        nengo.Connection(stim, lmu.input, synapse=None)
        u = nengo.Probe(lmu.memory.input, synapse=None)
        m = nengo.Probe(lmu.memory.output, synapse=None)
    with nengo.Simulator(net, progress_bar=False) as sim:
        sim.run(0.2)
    assert np.allclose(sim.data[u], x[0] @ channel_encoders(x).T)
    assert np.allclose(sim.data[u].std(axis=0), 1)
    # the memory's layout is channel-major: channel 0 is its first `order` values
    assert np.allclose(sim.data[m][:100, :3], 0)
    assert not np.allclose(sim.data[m][:100, 3:], 0)

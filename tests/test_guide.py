"""docs/user_guide/deploy.rst: its example runs, on a tiny problem, and compares
the rate network with the spiking one on the same inputs."""

import os
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).parents[1]
DEPLOY = ROOT / "docs" / "user_guide" / "deploy.rst"

#: the page's ``net``, ``inp`` and ``probe`` come from train.rst: here its
#: network at a tiny size, trained as train.rst's parallel path does (seconds)
PRELUDE = """
import nengo, numpy as np, tensorflow as tf
import nengo_lmu
from nengo_lmu.datasets import ps_digits
from nengo_lmu.parallel import freeze_params, parallel_model

tf.random.set_seed(0)
x_train, y_train, x_test, y_test = ps_digits()
net = nengo_lmu.lmu_model(
    10, seed=0, settings=dict(stateful=False, keep_history=False),
    units=16, order=8, theta=64.0, input_to_hidden=True,
    hidden_neuron_type=nengo.RectifiedLinear(),
)
inp, probe = net.inp, net.probe
model = parallel_model(net, steps=64, return_sequences=False)
model.compile(optimizer=tf.optimizers.Adam(1e-2),
              loss=tf.losses.SparseCategoricalCrossentropy(from_logits=True))
model.fit(x_train, y_train, batch_size=64, epochs=20, verbose=0)
freeze_params(model, net)
"""


def python_blocks(path):
    """The ``.. code-block:: python`` blocks of a reST page, dedented."""
    pattern = r"\.\. code-block:: python\n\n((?:   .*\n|\n)+)"
    return [
        "\n".join(line[3:] for line in block.splitlines())
        for block in re.findall(pattern, path.read_text())
    ]


def test_deploy_example_compares_rate_and_spiking():
    example = python_blocks(DEPLOY)[0]
    # the short path: the original network's node and probe, no conv.find
    assert "conv.run(nengo_lmu.loihi.Simulator, inp, x, probe" in example
    assert "find(" not in example
    # after the page's code: both networks saw the same inputs, x; and what
    # its "What runs where" says of the conversion holds
    epilogue = """
assert rate.shape == spiking.shape == (len(x), 10) and len(x) == len(y) == 16

from nengo_lmu.paths import base_object
(lmu,) = conv.lmus
chip = nengo_lmu.loihi.chip_ensembles(conv.network)
assert chip == {lmu.hidden}  # the hidden layer on the chip, the memory on the host
assert not any(isinstance(o, nengo.Ensemble) for o in lmu.memory.all_objects)
sent = nengo_lmu.loihi.host_to_chip_connections(conv.network)
# host to chip: the memory's 8 states and the input, into the hidden neurons
# (so the hidden weights are applied on the chip)
assert all(isinstance(c.post_obj, nengo.ensemble.Neurons) for c in sent)
assert sum(c.size_mid for c in sent) == 8 + 1
# chip to host: the hidden neurons' spikes, filtered on the host
back = [c for c in conv.network.all_connections
        if base_object(c.pre_obj) in chip and base_object(c.post_obj) not in chip]
assert len(back) == 1 and isinstance(back[0].pre_obj, nengo.ensemble.Neurons)
assert isinstance(back[0].synapse, nengo.Lowpass)
"""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")
    result = subprocess.run(
        [sys.executable, "-c", PRELUDE + example + epilogue],
        capture_output=True, text=True, timeout=300, env=env, cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    print(out)
    # the check's report: what passed, counted for the prelude's network
    # (16 hidden neurons on the chip; the memory's 8 states and the input sent)
    assert "Within Loihi's limits" in out
    assert "chip: 1 ensemble (SpikingRectifiedLinear: 1), 16 neurons on 1 core" in out
    assert "host to chip: 2 connections" in out
    found = re.search(
        r"rate accuracy ([0-9.]+), spiking accuracy ([0-9.]+), agreement ([0-9.]+)", out
    )
    assert found, out
    rate, spiking, agreement = map(float, found.groups())
    # 20 epochs of 1347 digits: measured 0.562 (9 of 16) for both. Chance is
    # 0.1: 5 or more of 16 right by chance has probability 0.017
    assert rate >= 0.3
    # the spiking network follows the rate one on the same digits (measured:
    # agreement 1.0); predictions on other inputs, or from a broken
    # conversion, agree about as often as chance (12 of 16: probability 1e-9)
    assert agreement >= 0.75
    assert abs(spiking - rate) <= 0.25

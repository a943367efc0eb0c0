"""What an inference costs: operations, chip resources, latency and energy.

Two reports, one per way a trained model runs:

* `InferenceCost`, of a spiking network as a run measured it (`CostProbes`
  records it; `.SpikingConversion.run` returns one): per stage (by default
  ``"memory"``, ``"hidden"``, ``"readout"`` of each LMU) and in total, per
  inference, the synaptic operations (spikes times the synapses each spike
  meets, connection by connection), the neuron updates (neurons times
  steps), the host-to-chip values and spikes and chip-to-host spikes of a
  deployment on nengo-loihi, the host's arithmetic (an exact memory's
  matrix-vector products, the weights the host applies), the chip's
  resources (cores, compartments, synapses: from nengo-loihi's build, where
  it ran there) and the latency (steps times ``dt``; times the chip's time
  per step where it is given).
* `RateCost`, of the same model run as a rate network (keras-lmu, NengoDL,
  TensorFlow on a CPU or GPU): multiply-accumulates per inference in closed
  form from the LMU's sizes (`lmu_rate_cost`).

Energy per device comes from keras-spiking's table,
``keras_spiking.ModelEnergy.devices`` (`device_energy`; ``pip install
nengo-lmu[energy]``): Loihi after Davies et al. 2018 (Loihi: a neuromorphic
manycore processor with on-chip learning, IEEE Micro 38(1), 82-99),
SpiNNaker and SpiNNaker 2 after Höppner et al. 2019 (Dynamic power
management for neuromorphic many-core systems, IEEE TCAS I 66(8),
2973-2986), CPU, GPU and ARM after Degnan, Marr and Hasler 2015 (Assessing
trends in performance per watt for signal processing applications, IEEE
TVLSI 24(1), 58-66). A spiking device pays its figure per synaptic
operation and per neuron update; the host's arithmetic is priced at
``host_device``'s figure per operation (by default the CPU's); a rate device
pays its figure per multiply-accumulate and per neuron update.

Left out, as by keras-spiking: static (leakage) power of the chip and the
host, the host's idle power while it waits on the chip, input and output
(the host-chip link, the data's way in and the answer's way out), memory
traffic, and the decode neurons nengo-loihi adds for decoded chip-to-chip
connections (their spikes are not probed). These are dynamic energy
estimates of the computation, for comparing deployments, not a measured
power draw.
"""

import collections.abc
import dataclasses

import nengo
import numpy as np
from nengo.exceptions import ValidationError

from nengo_lmu.metrics import _synapses
from nengo_lmu.params import check_network
from nengo_lmu.paths import base_object, index_of, object_at
from nengo_lmu.system import LinearSystem, SampledSystem, whole_steps

#: The devices whose figures are per synaptic operation of a spiking chip.
SPIKING = "spiking"

#: Counts of a stage, per inference (the fields of `InferenceCost`'s stages).
COUNTS = (
    "neurons",
    "spikes",
    "neuron_updates",
    "synaptic_ops",
    "host_ops",
    "host_to_chip_values",
    "host_to_chip_spikes",
    "chip_to_host_spikes",
)

#: Chip resources of a stage, from nengo-loihi's build (`chip_resources`).
RESOURCES = ("cores", "compartments", "synapses")


def devices():
    """keras-spiking's table: ``{name: {"spiking", "energy_per_synop",
    "energy_per_neuron"}}``, in joules (``keras_spiking.ModelEnergy.devices``,
    with any device added by ``ModelEnergy.register_device``)."""
    try:
        import keras_spiking  # pylint: disable=import-outside-toplevel
    except ImportError as err:  # pragma: no cover
        raise ImportError(
            "energy figures come from keras-spiking: pip install nengo-lmu[energy]"
        ) from err
    return keras_spiking.ModelEnergy.devices


def device_energy(device, spiking=None, attr="device"):
    """keras-spiking's figures for ``device`` (`devices`).

    ``spiking`` (True or False) refuses a device of the other kind. A
    device keras-spiking does not know is a ValidationError naming ``attr``.

    Examples
    --------
    >>> device_energy("loihi")["spiking"]
    True
    """
    table = devices()
    name = str(device).lower() if isinstance(device, str) else device
    if name not in table:
        raise ValidationError(
            f"{device!r} is not a device of keras-spiking's table (one of "
            f"{', '.join(sorted(table))}; keras_spiking.ModelEnergy.register_device "
            "adds one)",
            attr=attr,
        )
    figures = table[name]
    if spiking is not None and bool(figures["spiking"]) != spiking:
        kind = "spiking" if figures["spiking"] else "non-spiking"
        other = (
            "the rate network's cost (RateCost) prices non-spiking devices"
            if figures["spiking"]
            else "a spiking network's cost (InferenceCost) prices spiking devices"
        )
        raise ValidationError(f"{device!r} is a {kind} device; {other}", attr=attr)
    return figures


# --- measuring a run ------------------------------------------------------------


def spiking_ensembles(network):
    """The ensembles of ``network`` whose neurons spike."""
    return [e for e in network.all_ensembles if e.neuron_type.spiking]


def _chip_set(network, chip):
    """The ensembles on the chip: ``chip``; None, nengo-loihi's split if it is
    installed (`nengo_lmu.loihi.chip_ensembles`), else every ensemble."""
    if chip is not None:
        return set(chip)
    try:
        from nengo_lmu.loihi import chip_ensembles  # pylint: disable=import-outside-toplevel
    except ImportError:  # pragma: no cover
        return set(network.all_ensembles)
    return chip_ensembles(network)


def _host_inputs(network, chip):
    """Connections from host Nodes into chip ensembles (or their neurons),
    where nengo-loihi spike-encodes host values (passthrough Nodes fed only
    from the chip are not on the host)."""
    feeding = {}
    for conn in network.all_connections:
        feeding.setdefault(conn.post_obj, []).append(conn.pre_obj)

    def on_host(node):
        pres = feeding.get(node, [])
        passthrough = node.output is None
        return not (passthrough and pres and all(base_object(p) in chip for p in pres))

    return [
        c
        for c in network.all_connections
        if isinstance(c.pre_obj, nengo.Node)
        and base_object(c.post_obj) in chip
        and on_host(c.pre_obj)
    ]


class CostProbes:
    """Probes of what an `InferenceCost` is computed from, in ``network``.

    Made before the simulator is built (the probes are added to
    ``network``): the spikes of every spiking ensemble's neurons and the
    values of every Node that sends values to chip ensembles
    (`nengo_lmu.loihi.host_to_chip_connections`). `read` turns a run into
    `Measured` counts.

    Parameters
    ----------
    network : nengo.Network
    chip : collection of nengo.Ensemble, optional
        The ensembles on the chip; None: nengo-loihi's split (where
        nengo-loihi is installed, else every ensemble).

    Examples
    --------
    >>> with nengo.Network(seed=0) as net:
    ...     ens = nengo.Ensemble(2, 1, neuron_type=nengo.SpikingRectifiedLinear())
    ...     _ = nengo.Connection(nengo.Node(0.5), ens)
    >>> probes = CostProbes(net)
    >>> with nengo.Simulator(net, progress_bar=False) as sim:
    ...     sim.run_steps(10)
    >>> sorted(probes.read(sim).spikes) == [ens]
    True
    """

    def __init__(self, network, chip=None):
        self.network = check_network(network)
        self.chip = _chip_set(self.network, chip)
        self.spikes, self.values = {}, {}
        with self.network:
            for ens in spiking_ensembles(self.network):
                self.spikes[ens] = nengo.Probe(ens.neurons, synapse=None)
            for conn in _host_inputs(self.network, self.chip):
                if conn.pre_obj not in self.values:
                    self.values[conn.pre_obj] = nengo.Probe(conn.pre_obj, synapse=None)

    def read(self, sim, onto=None, steps=None, runs=1):
        """`Measured` of the run of ``sim`` (its whole run so far); with
        ``onto``, a network of which ``self.network`` is a copy, keyed by its
        objects instead. Where the simulation held ``runs`` inferences one
        after another, of ``steps`` steps each, its first ``runs * steps``
        steps are read as that many runs (what follows is not counted)."""

        def key(obj):
            return obj if onto is None else object_at(onto, index_of(self.network, obj))

        steps = int(sim.n_steps) if steps is None else int(steps)
        end = steps * runs
        spikes = {}
        for ens, probe in self.spikes.items():
            amplitude = getattr(ens.neuron_type, "amplitude", 1.0)
            spikes[key(ens)] = np.sum(sim.data[probe][:end], axis=0) * sim.dt / amplitude
        values = {
            key(node): list(np.split(np.asarray(sim.data[p])[:end], runs))
            for node, p in self.values.items()
        }
        node_neurons = getattr(getattr(sim, "model", None), "node_neurons", None)
        return Measured(spikes, values, steps, runs, sim.dt, node_neurons)


@dataclasses.dataclass
class Measured:
    """Counts of one or more runs of the same network (`CostProbes.read`).

    Attributes
    ----------
    spikes : dict
        Per spiking ensemble, the spikes of each neuron over the runs.
    values : dict
        Per host Node that sends to the chip, a list of its output at every
        step, ``(steps, size_out)``, one per run.
    steps : int
        Simulator steps of one run.
    runs : int
        Runs added up (`__add__`).
    dt : float
    node_neurons : nengo_loihi.decode_neurons.DecodeNeurons or None
        How the host encoded values as spikes, where nengo-loihi ran it.
    """

    spikes: dict
    values: dict
    steps: int
    runs: int
    dt: float
    node_neurons: object = None

    def __add__(self, other):
        if other.steps != self.steps or other.dt != self.dt:
            raise ValidationError(
                f"runs of {other.steps} steps of {other.dt:g} s cannot be added to "
                f"runs of {self.steps} steps of {self.dt:g} s",
                attr="other",
            )
        spikes = dict(self.spikes)
        for key, value in other.spikes.items():
            spikes[key] = spikes[key] + value if key in spikes else value
        values = {key: list(v) for key, v in self.values.items()}
        for key, value in other.values.items():
            values.setdefault(key, []).extend(value)
        return Measured(
            spikes,
            values,
            self.steps,
            self.runs + other.runs,
            self.dt,
            self.node_neurons if self.node_neurons is not None else other.node_neurons,
        )


def input_spikes_per_step(values, node_neurons, dt):
    """Spikes per step the host sends for ``values`` (in the link's units:
    1 is one spike per step), encoded by ``node_neurons``' on/off pairs.

    Each neuron of a pair (encoder +1, -1) fires ``max(gain * e * x + bias,
    0)`` Hz, integrate-and-fire, at most once per step. None:
    `nengo_lmu.loihi.RectifiedInputNeurons` (``|x|`` per step), what
    `nengo_lmu.loihi.Simulator` uses; nengo-loihi's own encoding fires one
    spike per step and value at any ``|x| <= 1``.

    Examples
    --------
    >>> input_spikes_per_step(np.array([0.5, -0.25, 2.0]), None, 0.001)
    array([0.5 , 0.25, 1.  ])
    """
    values = np.asarray(values, dtype=float)
    if node_neurons is None:
        return np.minimum(np.abs(values), 1.0)
    gain = np.asarray(node_neurons.gain, dtype=float)
    bias = np.asarray(node_neurons.bias, dtype=float)
    signs = np.tile([1.0, -1.0], len(gain) // 2)
    out = np.zeros_like(values)
    for g, b, e in zip(gain, bias, signs):
        out += np.clip((g * e * values + b) * dt, 0.0, 1.0)
    return out


# --- counting ----------------------------------------------------------------------


def _stage_of(stages, obj, default):
    obj = base_object(obj)
    for name, members in stages.items():
        if obj in members:
            return name
    return default


def _members(objs):
    found = set()
    for obj in objs:
        if isinstance(obj, nengo.Network):
            found.update(obj.all_ensembles)
            found.update(obj.all_nodes)
        else:
            found.add(base_object(obj))
    return found


def _weights(conn):
    """The weights of ``conn`` as a matrix ``(size_out, size_mid)``, or None
    for an identity (no transform, or a scalar 1)."""
    T = conn.transform
    if isinstance(T, nengo.transforms.NoTransform):
        return None
    W = np.asarray(T.sample(rng=np.random.RandomState(0)), dtype=float)
    if W.ndim == 0:
        return None if W == 1 else W * np.eye(conn.size_out, conn.size_mid)
    if W.ndim == 1:
        return np.diag(W)
    return W if W.ndim == 2 else None


def system_ops(node, dt):
    """Multiply-accumulates of one step of the `.LinearSystem` (or
    `.SampledSystem`) in ``node``: the nonzero entries of its discretised
    ``A, B, C, D`` (at ``dt``, or its sample period) times its channels;
    and the steps per ``dt`` it takes (1, or one per period). 0 for a node
    without one."""
    process, period = node.output, dt
    if isinstance(process, SampledSystem):
        process, period = process.system, process.period
    if not isinstance(process, LinearSystem):
        return 0, 1
    A, B, C, D = process.discretize(period).ss
    per_channel = sum(int(np.count_nonzero(M)) for M in (A, B, C, D))
    channels = node.size_out // max(C.shape[0], 1)
    return per_channel * channels, period


def inference_cost(
    network,
    measured,
    stages=None,
    chip=None,
    model=None,
    system_steps=None,
    step_time=None,
    simulator=None,
    per="inference",
    host_device="cpu",
):
    """The cost of one inference of ``network`` from what a run measured.

    Parameters
    ----------
    network : nengo.Network
        The network that ran (or the one ``measured`` was keyed onto).
    measured : Measured
        `CostProbes.read` of the run (added up over runs, one per inference).
    stages : dict of {str: collection}, optional
        Stage name to its Ensembles, Nodes or Networks. A connection belongs
        to the stage of its post object, or of the objects behind a
        passthrough Node (its synapses are there, as
        keras-spiking counts a layer's input synapses in the layer); the rest
        of the network is stage ``"other"``. None: one stage, ``"network"``.
    chip : collection of nengo.Ensemble, optional
        The ensembles on the chip; None: nengo-loihi's split
        (`nengo_lmu.loihi.chip_ensembles`).
    model : nengo_loihi.builder.Model, optional
        nengo-loihi's build, for `chip_resources`; None: none counted.
    system_steps : dict of {nengo.Node: int}, optional
        Steps a host `.LinearSystem` or `.SampledSystem` node takes per
        inference; by default every step (`.SampledSystem`: one per period).
    step_time : float, optional
        The chip's wall time per step, where known (seconds); None leaves
        the wall-clock latency unknown.
    simulator : str, optional
        What ran it (recorded).
    per : str, optional
        What one inference is (a sequence, a digit, a series): recorded.
    host_device : str, optional
        The device of keras-spiking's table whose figure per operation
        prices the host's operations (`InferenceCost.energy`): by default
        the CPU's. Naming the spiking device itself prices them as if they
        ran on the chip (keras-spiking's assumption for a whole model).

    Returns
    -------
    InferenceCost
    """
    device_energy(host_device, attr="host_device")
    network = check_network(network)
    chip = _chip_set(network, chip)
    stages = {"network": network.all_ensembles + network.all_nodes} if stages is None else stages
    members = {name: _members(objs) for name, objs in stages.items()}
    runs = measured.runs
    steps, dt = measured.steps, measured.dt
    names = list(stages) + ["other"]
    counts = {name: dict.fromkeys(COUNTS, 0.0) for name in names}
    system_steps = {} if system_steps is None else system_steps

    def add(stage, key, value):
        counts[stage][key] += float(value)

    # neurons: each updated every step (on the chip, or wherever they run)
    for ens in network.all_ensembles:
        stage = _stage_of(members, ens, "other")
        add(stage, "neurons", ens.n_neurons)
        if ens in chip or ens.neuron_type.spiking:
            add(stage, "neuron_updates", ens.n_neurons * steps)
        else:  # a rate (or Direct) ensemble off the chip: host arithmetic
            add(stage, "host_ops", ens.n_neurons * steps)

    # spikes, and the synapses they meet (through passthrough Nodes)
    spike_fed = set()
    for ens, per_neuron in measured.spikes.items():
        per_neuron = np.asarray(per_neuron, dtype=float) / runs
        add(_stage_of(members, ens, "other"), "spikes", per_neuron.sum())
        to_host = np.zeros(ens.n_neurons, dtype=bool)
        for conn in network.all_connections:
            if base_object(conn.pre_obj) is not ens:
                continue
            post = base_object(conn.post_obj)
            through = _passthroughs_after(network, post)
            spike_fed.update(through)
            synapses = _synapses(network, conn, ens.n_neurons)
            ops = float(per_neuron @ synapses)
            # nengo-loihi removes passthrough Nodes between chip objects
            behind = {base_object(c.post_obj) for c in network.all_connections
                      if base_object(c.pre_obj) in through} - through
            # the synapses are where the weights behind the passthroughs are
            targets = sorted(behind or (through - {post}), key=str)
            stage = _stage_of(members, targets[0] if targets else post, "other")
            on_chip = post in chip or (through and behind and behind <= chip)
            if ens in chip and on_chip:
                add(stage, "synaptic_ops", ops)
            elif ens in chip:  # the host applies the weights, spike by spike
                to_host |= synapses > 0
                add(stage, "host_ops", ops)
            else:
                add(stage, "synaptic_ops" if on_chip else "host_ops", ops)
        if ens in chip:
            add(_stage_of(members, ens, "other"), "chip_to_host_spikes",
                per_neuron[to_host].sum())

    # host values sent to the chip: spike-encoded, then through chip synapses
    for conn in _host_inputs(network, chip):
        post = base_object(conn.post_obj)
        stage = _stage_of(members, post, "other")
        W = _weights(conn)
        if isinstance(conn.post_obj, nengo.Ensemble):
            # the host applies the transform and sends the value over the
            # radius, which the chip's encoders weight
            sent = post.dimensions
            if W is not None:
                add(stage, "host_ops", np.count_nonzero(W) * steps)
        else:  # into neurons: the values themselves, weighted on the chip
            sent = conn.size_mid
        # each value's spike reaches every post neuron (dense weights, as
        # `.metrics.fan_out` counts a spike into an ensemble)
        per_axon = np.full(sent, post.n_neurons, dtype=float)
        add(stage, "host_to_chip_values", sent * steps)
        runs_sent = measured.values.get(conn.pre_obj, [])
        if not runs_sent:
            continue
        spikes = sum(
            input_spikes_per_step(_sent_values(conn, x), measured.node_neurons, dt).sum(axis=0)
            for x in runs_sent
        ) / len(runs_sent)
        add(stage, "host_to_chip_spikes", spikes.sum())
        add(stage, "synaptic_ops", float(spikes @ per_axon))

    # host arithmetic: systems in Nodes, and weights between host objects
    for node in network.all_nodes:
        ops, period = system_ops(node, dt)
        if ops:
            n = system_steps.get(node)
            if n is None:
                n = steps // whole_steps(period, dt) if period != dt else steps
            add(_stage_of(members, node, "other"), "host_ops", ops * n)
    for conn in network.all_connections:
        pre, post = base_object(conn.pre_obj), base_object(conn.post_obj)
        if pre in chip or post in chip or pre in spike_fed or pre in measured.spikes:
            continue
        W = _weights(conn)
        if W is not None:
            add(_stage_of(members, post, "other"), "host_ops", np.count_nonzero(W) * steps)

    if not any(counts["other"].values()):
        del counts["other"]
    resources = None if model is None else chip_resources(model, members)
    return InferenceCost(
        stages=counts,
        steps=int(steps),
        dt=float(dt),
        inferences=int(runs),
        resources=resources,
        step_time=step_time,
        simulator=simulator,
        per=per,
        host_device=host_device,
    )


def _passthroughs_after(network, obj):
    """Passthrough Nodes reached from ``obj`` through passthrough Nodes."""
    found, todo = set(), [obj]
    while todo:
        node = todo.pop()
        if not isinstance(node, nengo.Node) or node.output is not None or node in found:
            continue
        found.add(node)
        todo += [base_object(c.post_obj) for c in network.all_connections
                 if base_object(c.pre_obj) is node]
    return found


def _sent_values(conn, data):
    """What ``conn`` sends to the chip at each step, in the link's units:
    into neurons, the (function of the) pre value; into an ensemble, the
    transformed value over its radius."""
    x = np.asarray(data, dtype=float)
    x = x[:, conn.pre_slice] if conn.pre_slice != slice(None) else x
    if conn.function is not None:
        x = np.array([np.atleast_1d(conn.function(row)) for row in x], dtype=float)
    if isinstance(conn.post_obj, nengo.Ensemble):
        W = _weights(conn)
        x = x if W is None else x @ W.T
        x = x / conn.post_obj.radius
    return x


def chip_resources(model, stages=None):
    """Cores, compartments and synapses of nengo-loihi's build ``model``.

    nengo-loihi puts each of the model's blocks (an ensemble, a part of one
    split by a `nengo_loihi.BlockShape`, or the decode neurons of a decoded
    connection) on a core of its own. ``synapses`` counts the weights in
    synapse memory (``Synapse.size()``). Per stage (``{name: set of
    Ensembles}``, blocks of no stage's ensemble in ``"other"``), or total.

    Parameters
    ----------
    model : nengo_loihi.builder.Model
        ``sim.model`` of a nengo-loihi simulator (or `nengo_lmu.loihi.Simulator`).
    stages : dict, optional

    Returns
    -------
    dict of {str: dict}
        Per stage (or ``"network"``), ``{"cores", "compartments", "synapses"}``.
    """
    owner = {}
    for obj, built in getattr(model, "objs", {}).items():
        if isinstance(obj, nengo.Ensemble):
            for block in built.get("out", []) if isinstance(built.get("out"), list) else [
                built.get("out")
            ]:
                owner[block] = obj
    stages = {"network": None} if stages is None else stages
    out = {name: dict.fromkeys(RESOURCES, 0) for name in list(stages) + ["other"]}
    for block in model.blocks:
        ens = owner.get(block)
        name = "other"
        for stage, members in stages.items():
            if members is None or (ens is not None and ens in members):
                name = stage
                break
        out[name]["cores"] += 1
        out[name]["compartments"] += int(block.compartment.n_compartments)
        out[name]["synapses"] += int(sum(s.size() for s in block.synapses))
    if not any(out["other"].values()):
        del out["other"]
    return out


# --- the reports ---------------------------------------------------------------------


@dataclasses.dataclass(eq=False)  # compared as the mapping (Mapping's __eq__)
class InferenceCost(collections.abc.Mapping):
    """The cost of one inference of a spiking network, from a run.

    Made by `inference_cost` (and `.SpikingConversion.run`). Every count is
    per inference (the mean over the inferences run).

    As a mapping (``report[k]``), it is what `.SpikingConversion.run`
    returned before there was a report: per converted LMU (by index), its
    spikes and synaptic events (``spikes``).

    Attributes
    ----------
    stages : dict of {str: dict}
        Per stage, the counts of `COUNTS`: ``neurons``, ``spikes``,
        ``neuron_updates`` (neurons times steps), ``synaptic_ops`` (on the
        chip: spikes times the chip synapses each meets, host input spikes
        included), ``host_ops`` (the host's multiply-accumulates: systems in
        Nodes, weights between host objects, weights the host applies to chip
        spikes, one per spike and weight), ``host_to_chip_values`` (values
        the host sends, one per step each), ``host_to_chip_spikes`` (the
        spikes encoding them, from the values sent), ``chip_to_host_spikes``.
    steps : int
        Simulator steps per inference.
    dt : float
        Seconds per step.
    inferences : int
        Inferences the counts are the mean of.
    resources : dict or None
        `chip_resources` per stage (cores, compartments, synapses), where the
        network was built by nengo-loihi; else None.
    step_time : float or None
        The chip's wall time per step, where known.
    simulator : str or None
        What measured it.
    per : str
        What one inference is (``"sequence"``, ``"digit"``, ...).
    spikes : dict
        `.SpikingConversion.run`'s spike counts per LMU (the mapping).
    host_device : str
        Whose figure prices the host's operations (`energy`).
    """

    stages: dict
    steps: int
    dt: float
    inferences: int = 1
    resources: dict = None
    step_time: float = None
    simulator: str = None
    per: str = "inference"
    spikes: dict = dataclasses.field(default_factory=dict)
    host_device: str = "cpu"

    # the mapping: run's spike counts per LMU
    def __getitem__(self, key):
        return self.spikes[key]

    def __iter__(self):
        return iter(self.spikes)

    def __len__(self):
        return len(self.spikes)

    __hash__ = None

    def total(self, key):
        """The sum over stages of count ``key`` (one of `COUNTS`, or of
        `RESOURCES`, 0 without ``resources``)."""
        if key in RESOURCES:
            return sum(r[key] for r in (self.resources or {}).values())
        if key not in COUNTS:
            raise ValidationError(
                f"{key!r} is not a count (one of {', '.join(COUNTS + RESOURCES)})",
                attr="key",
            )
        return sum(stage[key] for stage in self.stages.values())

    @property
    def latency(self):
        """Simulated seconds per inference (``steps * dt``)."""
        return self.steps * self.dt

    @property
    def wall_latency(self):
        """Seconds per inference on the chip (``steps * step_time``), or None
        where its time per step is not known."""
        return None if self.step_time is None else self.steps * self.step_time

    def energy(self, device="loihi", stage=None):
        """Joules per inference on spiking ``device`` (keras-spiking's table).

        Its figure per synaptic operation times ``synaptic_ops``, plus per
        neuron update times ``neuron_updates``, plus ``host_device``'s figure
        per operation times ``host_ops``; of ``stage``, or the total.
        """
        figures = device_energy(device, spiking=True)
        host = device_energy(self.host_device, attr="host_device")
        if stage is not None and stage not in self.stages:
            raise ValidationError(
                f"{stage!r} is not a stage (one of {', '.join(self.stages)})", attr="stage"
            )
        parts = self.stages.values() if stage is None else [self.stages[stage]]
        return float(
            sum(
                figures["energy_per_synop"] * s["synaptic_ops"]
                + figures["energy_per_neuron"] * s["neuron_updates"]
                + host["energy_per_synop"] * s["host_ops"]
                for s in parts
            )
        )

    def to_dict(self, devices=("loihi", "spinnaker", "spinnaker2")):
        """Plain numbers and strings, for a results file: the counts per
        stage and total, resources, latency, and joules per inference on
        each of ``devices`` per stage and total."""
        energy = {
            device: {
                **{name: self.energy(device, name) for name in self.stages},
                "total": self.energy(device),
            }
            for device in devices
        }
        return {
            "per": self.per,
            "simulator": self.simulator,
            "inferences": self.inferences,
            "steps": self.steps,
            "dt": self.dt,
            "latency_s": self.latency,
            "chip_step_time_s": self.step_time,
            "stages": {name: dict(counts) for name, counts in self.stages.items()},
            "total": {key: self.total(key) for key in COUNTS},
            "resources": self.resources,
            "host_device": self.host_device,
            "energy_joules": energy,
        }

    def totals(self, devices=("loihi",)):
        """Numbers only, for a results file summarised over seeds: every
        count's total, ``latency_s``, and ``energy_joules`` per device."""
        return {
            **{key: float(self.total(key)) for key in COUNTS},
            "latency_s": float(self.latency),
            "energy_joules": {device: self.energy(device) for device in devices},
        }

    def summary(self, devices=("loihi",)):
        """A few lines: per stage, the counts and joules on ``devices``."""
        heads = ["stage", "neurons", "spikes", "syn. ops", "neuron upd.", "host ops",
                 "to chip", "from chip"] + [f"J ({d})" for d in devices]
        keys = ["neurons", "spikes", "synaptic_ops", "neuron_updates", "host_ops",
                "host_to_chip_spikes", "chip_to_host_spikes"]
        rows = [heads]
        for name, counts in list(self.stages.items()) + [("total", None)]:
            values = [counts[k] if counts else self.total(k) for k in keys]
            rows.append(
                [name] + [f"{v:,.0f}" for v in values]
                + [f"{self.energy(d, None if counts is None else name):.3g}" for d in devices]
            )
        widths = [max(len(r[i]) for r in rows) for i in range(len(heads))]
        lines = [
            f"Cost per {self.per} (mean of {self.inferences}, {self.steps} steps of "
            f"{self.dt * 1000:g} ms = {self.latency:g} s simulated; "
            + ("chip step time unknown" if self.step_time is None
               else f"{self.wall_latency:g} s on the chip")
            + (f"; measured on {self.simulator}" if self.simulator else "") + "):"
        ]
        for i, row in enumerate(rows):
            lines.append("  " + "  ".join(
                v.ljust(w) if j == 0 else v.rjust(w) for j, (v, w) in enumerate(zip(row, widths))
            ))
            if i == 0:
                lines.append("  " + "  ".join("-" * w for w in widths))
        if self.resources:
            for name, r in self.resources.items():
                if r["cores"]:
                    lines.append(f"  chip ({name}): {r['cores']:g} cores, "
                                 f"{r['compartments']:g} compartments, "
                                 f"{r['synapses']:g} synapses")
        lines.append(
            f"  host ops priced as {self.host_device} operations; energy is dynamic only "
            "(no static power, I/O or host idle power; keras-spiking's figures)"
        )
        return "\n".join(lines)

    def __str__(self):
        return self.summary()


@dataclasses.dataclass
class RateCost:
    """The cost of one inference of a rate network (CPU, GPU, ARM).

    Attributes
    ----------
    stages : dict of {str: dict}
        Per stage, ``macs`` (multiply-accumulates) and ``neuron_updates``
        per inference.
    per : str
        What one inference is.
    """

    stages: dict
    per: str = "inference"

    @property
    def macs(self):
        """Multiply-accumulates per inference, all stages."""
        return sum(s["macs"] for s in self.stages.values())

    @property
    def neuron_updates(self):
        return sum(s["neuron_updates"] for s in self.stages.values())

    def energy(self, device="cpu", stage=None):
        """Joules per inference on non-spiking ``device`` (keras-spiking's
        figures: per operation, each MAC and each neuron update one)."""
        figures = device_energy(device, spiking=False)
        if stage is not None and stage not in self.stages:
            raise ValidationError(
                f"{stage!r} is not a stage (one of {', '.join(self.stages)})", attr="stage"
            )
        parts = self.stages.values() if stage is None else [self.stages[stage]]
        return float(sum(figures["energy_per_synop"] * s["macs"]
                         + figures["energy_per_neuron"] * s["neuron_updates"] for s in parts))

    def to_dict(self, devices=("cpu", "gpu", "arm")):
        return {
            "per": self.per,
            "stages": {name: dict(s) for name, s in self.stages.items()},
            "total": {"macs": self.macs, "neuron_updates": self.neuron_updates},
            "energy_joules": {
                d: {**{n: self.energy(d, n) for n in self.stages}, "total": self.energy(d)}
                for d in devices
            },
        }

    def summary(self, devices=("cpu", "gpu", "arm")):
        lines = [f"Rate network, cost per {self.per}:"]
        for name, s in self.stages.items():
            lines.append(f"  {name}: {s['macs']:,.0f} MACs, {s['neuron_updates']:,.0f} "
                         "neuron updates")
        lines.append(f"  total: {self.macs:,.0f} MACs; " + ", ".join(
            f"{self.energy(d):.3g} J ({d})" for d in devices))
        return "\n".join(lines)

    def __str__(self):
        return self.summary()


def lmu_rate_cost(
    units,
    order,
    steps,
    n_out=0,
    input_d=1,
    memory_d=1,
    hidden_to_memory=False,
    memory_to_memory=False,
    input_to_hidden=False,
    hidden_to_hidden=False,
    readout_steps=1,
    per="inference",
):
    """Multiply-accumulates of an LMU run as a rate network, in closed form.

    Per step, with :math:`q` = ``order``, :math:`d` = ``memory_d``:

    * memory: the encoders :math:`d\\,(n_x + [h2m]\\,n_h + [m2m]\\,d q)` and
      the update :math:`\\bar{A} m + \\bar{B} u`, :math:`d\\,(q^2 + q)`;
    * hidden: :math:`n_h\\,(d q + [i2h]\\,n_x + [h2h]\\,n_h)`, and
      :math:`n_h` neuron updates;
    * readout: :math:`n_\\text{out} n_h`, on ``readout_steps`` steps (1: a
      classifier read after the last step).

    Parameters
    ----------
    units, order, steps : int
        Hidden units, memory order, steps per inference.
    n_out : int, optional
        Outputs of a dense readout (0: none).
    input_d, memory_d : int, optional
    hidden_to_memory, memory_to_memory, input_to_hidden, hidden_to_hidden : bool
        The LMU's optional connections (`.LMU`'s flags).
    readout_steps : int, optional
    per : str, optional

    Returns
    -------
    RateCost

    Examples
    --------
    >>> lmu_rate_cost(units=2, order=3, steps=4).stages["memory"]["macs"]
    52
    """
    q, d, n, x = order, memory_d, units, input_d
    encoders = d * (x + hidden_to_memory * n + memory_to_memory * d * q)
    stages = {
        "memory": {"macs": steps * (encoders + d * (q * q + q)), "neuron_updates": 0},
        "hidden": {
            "macs": steps * n * (d * q + input_to_hidden * x + hidden_to_hidden * n),
            "neuron_updates": steps * n,
        },
        "readout": {"macs": readout_steps * n_out * n, "neuron_updates": 0},
    }
    return RateCost(stages=stages, per=per)


def conversion_stages(network, lmus):
    """The stages of a converted network (`.SpikingConversion`): each LMU's
    ``"memory"`` (its `.LegendreMemory`), ``"hidden"`` (the rest of the LMU:
    the hidden layer, the nodes scaling its host inputs) and ``"readout"``
    (everything else: output filter, readout, input). With several LMUs,
    ``"memory 0"``, ``"hidden 0"``, ...."""
    stages = {}
    for k, lmu in enumerate(lmus):
        suffix = f" {k}" if len(lmus) > 1 else ""
        memory = _members([lmu.memory])
        stages[f"memory{suffix}"] = memory
        stages[f"hidden{suffix}"] = _members([lmu]) - memory
    taken = set().union(*stages.values()) if stages else set()
    stages["readout"] = _members([network]) - taken
    return stages


def conversion_cost(conv, measured, n_samples, simulator=None, model=None, copies=None,
                    per="sequence"):
    """`inference_cost` of a `.SpikingConversion`'s run (`.SpikingConversion.run`).

    Stages by `conversion_stages`; each sampled memory steps ``n_samples``
    times per inference; ``model`` (nengo-loihi's build of ``copies``, the
    copies of ``conv.network`` run side by side) gives the chip resources
    of one copy.
    """
    stages = conversion_stages(conv.network, conv.lmus)
    system_steps = {
        lmu.memory.state: n_samples for lmu in conv.lmus
        if lmu.memory.sample_period is not None and lmu.memory.n_neurons is None
    }
    name = None if simulator is None else (
        f"{getattr(simulator, '__module__', '')}.{getattr(simulator, '__qualname__', simulator)}"
    )
    cost = inference_cost(conv.network, measured, stages=stages, system_steps=system_steps,
                          simulator=name, per=per)
    if model is not None and hasattr(model, "blocks") and copies:
        copied = {
            stage: {object_at(copy, index_of(conv.network, obj))
                    for copy in copies for obj in members}
            for stage, members in stages.items()
        }
        resources = chip_resources(model, copied)
        cost.resources = {
            stage: {key: value / len(copies) for key, value in r.items()}
            for stage, r in resources.items()
        }
    return cost

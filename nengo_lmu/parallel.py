"""Parallel training of feed-forward LMUs: the memory of a whole sequence at once.

Without recurrence (no ``hidden_to_memory``, ``memory_to_memory`` or
``hidden_to_hidden``), the memory's input is :math:`u_t = e_x^T x_t` and the
memory is a causal convolution with its impulse response [1]_,

.. math:: m_t = \\sum_{j=0}^{t} H_j u_{t-j}, \\qquad H_j = \\bar{A}^j \\bar{B},

so training need not step through time: `ParallelLMU` computes every step's
memory in blocks (`block_convolution`; or by FFT, or as one direct
convolution), and when only the last step is trained, the single
contraction :math:`m_T = \\sum_j H_j u_{T-j}` (the paper's Eq. 25). The
hidden layer :math:`h_t = f(W_m m_t + W_x x_t + b)` then applies to every
step at once.

`parallel_model` makes a Keras model of an `.lmu_model` network (its weights
as the network would build them), and `freeze_params` writes the trained
weights back into that network, so the reference simulator, NengoDL,
`.to_spiking` and the Loihi emulator run it unchanged. A stack of LMUs
(``lmu_model(..., layers=[...])``) becomes one `ParallelLMU` per layer, each
layer's every-step output the next one's input, so every layer but the last
computes its memory over the whole sequence; the last may take the
single contraction.

The model is a plain Keras model: made inside a ``tf.distribute`` strategy's
scope (e.g. ``tf.distribute.MirroredStrategy()``, one replica per GPU), its
``fit`` splits each global batch between the replicas and sums their
gradients, which gives the one-device result for the same global batch (to
round-off).

References
----------
.. [1] Chilkuri, N. R. and Eliasmith, C. (2021). Parallelizing Legendre Memory
   Unit training. ICML.
"""

import warnings

import nengo
import numpy as np
import tensorflow as tf
from nengo.exceptions import ValidationError
from nengo.params import BoolParam, EnumParam

from nengo_lmu.measure import check_sequences
from nengo_lmu.networks.lmu import LMU
from nengo_lmu.params import FiniteNumberParam, IntegerParam, check_float_dtype, check_param

#: Recurrent terms the parallel form cannot represent (the LMU flags).
RECURRENT_FLAGS = ("hidden_to_memory", "memory_to_memory", "hidden_to_hidden")

#: How `ParallelLMU` computes every step's memory: in blocks (default,
#: `block_convolution`), by FFT, or as one direct convolution.
CONVOLUTIONS = ("blocks", "fft", "direct")


def _nonlinearity(neuron_type):
    """The TensorFlow rate function of a hidden neuron type (as NengoDL runs it)."""
    t = type(neuron_type)
    if t is nengo.RectifiedLinear:
        a = neuron_type.amplitude
        return lambda J: a * tf.nn.relu(J)
    if t is nengo.Tanh:
        k = 1.0 / neuron_type.tau_ref
        return lambda J: k * tf.tanh(J)
    if t is nengo.Sigmoid:
        k = 1.0 / neuron_type.tau_ref
        return lambda J: k * tf.sigmoid(J)
    if t is nengo.LIFRate:
        a, ref, rc = neuron_type.amplitude, neuron_type.tau_ref, neuron_type.tau_rc

        def lif_rate(J):
            j = J - 1
            safe = tf.maximum(j, tf.constant(1e-15, J.dtype))  # no nan in the gradient
            rates = a / (ref + rc * tf.math.log1p(1.0 / safe))
            return tf.where(j > 0, rates, tf.zeros_like(rates))

        return lif_rate
    raise ValidationError(
        f"the parallel form runs RectifiedLinear, Tanh, Sigmoid or LIFRate hidden "
        f"neurons (got {neuron_type!r}); train a spiking network as a rate one and "
        "convert it with to_spiking",
        attr="hidden_neuron_type",
    )


def check_parallel(lmu):
    """Refuse an `.LMU` the parallel form cannot represent (ValidationError naming why)."""
    for flag in RECURRENT_FLAGS:
        if getattr(lmu, flag):
            raise ValidationError(
                "is a recurrence: the parallel form needs a feed-forward LMU "
                "(train this one step by step through NengoDL)",
                attr=flag,
                obj=lmu,
            )
    mem = lmu.memory
    if mem.trainable_theta:
        raise ValidationError(
            "the parallel form convolves with a fixed impulse response; train the "
            "window step by step through NengoDL",
            attr="trainable_theta",
            obj=lmu,
        )
    if mem.n_neurons is not None or mem.trainable_matrices:
        raise ValidationError(
            "the parallel form trains the exact memory (no n_neurons, no "
            "trainable_matrices)",
            attr="memory_kwargs",
            obj=lmu,
        )
    if lmu.hidden is not None:
        _nonlinearity(lmu.hidden_neuron_type)


def impulse_response(memory, steps, dt):
    """:math:`H_j = \\bar{A}^j \\bar{B},\\ j < ` ``steps``, shape ``(steps, order)``.

    The memory's own digital system (its ``method``) stepped from rest by a
    unit impulse (`.LinearSystem.impulse`).
    """
    digital = memory.system.discretize(dt)
    return digital.impulse(steps).reshape(steps, memory.order)


class ParallelLMU(tf.keras.layers.Layer):
    """A feed-forward `.LMU` over whole sequences ``(batch, steps, input_d)``.

    Returns :math:`h_t` for every step (``return_sequences``) or the last
    only (then by the single contraction of Eq. 25), ``(batch, [steps,]
    units)``; without a hidden layer, the memory :math:`m_t`. The trainable
    weights are :math:`e_x` (``input_encoders``), :math:`W_m`
    (``memory_kernel``), :math:`W_x` (``input_kernel``, with
    ``input_to_hidden``) and the hidden bias, initialised from ``weights``.

    Parameters
    ----------
    lmu : LMU
        The network to mirror (checked by `check_parallel`).
    steps : int
        Sequence length (the impulse response is that long).
    weights : dict
        Initial values, keyed as the trainable weights above, each in the
        Nengo transform's ``(post, pre)`` layout (see `parallel_model`).
    dt : float, optional
        The simulator's time-step (``theta`` is in its units; default 1:
        steps).
    return_sequences : bool, optional
        Every step (default) or the last.
    convolution : {"blocks", "fft", "direct"}, optional
        Every step's memory in blocks (default; `block_convolution`,
        ``O(T (L + n) n)`` for blocks of ``L`` steps, `block_length`, and
        ``n`` states, the order), by FFT (``O(T log T)``) or by one direct
        causal convolution (``O(T^2)``). Only ``return_sequences`` uses it.
    """

    def __init__(self, lmu, steps, weights, dt=1.0, return_sequences=True,
                 convolution="blocks", **kwargs):
        super().__init__(**kwargs)
        check_parallel(lmu)
        self.steps = check_param(IntegerParam("steps", low=1), steps)
        dt = check_param(FiniteNumberParam("dt", low=0, low_open=True), dt)
        self.convolution = check_param(EnumParam("convolution", values=CONVOLUTIONS),
                                       convolution)
        self.return_sequences = check_param(BoolParam("return_sequences"),
                                            return_sequences)
        self.memory_d, self.order = lmu.memory_d, lmu.order
        # Keras then names the expected shape when called on another one
        self.input_spec = tf.keras.layers.InputSpec(shape=(None, self.steps, lmu.input_d))
        self.has_hidden = lmu.hidden is not None
        self.input_to_hidden = lmu.input_to_hidden
        self.f = _nonlinearity(lmu.hidden_neuron_type) if self.has_hidden else None
        self.H = tf.constant(impulse_response(lmu.memory, self.steps, dt), self.dtype)
        if self.convolution == "blocks" and self.return_sequences:
            self.blocks = {k: tf.constant(v, self.dtype) for k, v in
                           block_operators(lmu.memory, self.steps, dt).items()}
        self.initial = dict(weights)

    def _weight(self, name):
        value = np.asarray(self.initial[name])
        return self.add_weight(
            name=name, shape=value.shape, dtype=self.dtype,
            initializer=tf.keras.initializers.Constant(value), trainable=True,
        )

    def build(self, input_shape):
        """The trainable weights, at their initial values."""
        self.input_encoders = self._weight("input_encoders")
        if self.has_hidden:
            self.memory_kernel = self._weight("memory_kernel")
            self.bias = self._weight("bias")
            self.input_kernel = self._weight("input_kernel") if self.input_to_hidden else None
        super().build(input_shape)

    def call(self, x):
        """:math:`h_t` (or :math:`m_t`) of ``x``, ``(batch, steps, input_d)``."""
        x = tf.cast(x, self.dtype)
        u = tf.einsum("btd,cd->btc", x, self.input_encoders)
        if self.return_sequences:
            m = self._memory_sequence(u)
        else:  # Eq. 25: m_T = sum_j H_j u_{T-j}
            m = tf.einsum("btc,tq->bcq", tf.reverse(u, axis=[1]), self.H)
            m = tf.reshape(m, (-1, self.memory_d * self.order))
            x = x[:, -1]
        if not self.has_hidden:
            return m
        # tensordot: one matmul forward and back (an einsum with an ellipsis
        # here made the gradient slower)
        J = tf.tensordot(m, self.memory_kernel, [[-1], [1]]) + self.bias
        if self.input_to_hidden:
            J += tf.tensordot(x, self.input_kernel, [[-1], [1]])
        return self.f(J)

    def _memory_sequence(self, u):
        """Every step's memory, ``(batch, steps, memory_d * order)``, channel-major."""
        T, c, q = self.steps, self.memory_d, self.order
        channels = tf.transpose(u, [0, 2, 1])  # (b, c, T)
        if self.convolution == "blocks":
            m = block_convolution(tf.reshape(channels, (-1, T)), **self.blocks)
            m = tf.transpose(tf.reshape(m, (-1, c, T, q)), [0, 2, 1, 3])
        elif self.convolution == "fft":
            n = fft_length(T)
            U = tf.signal.rfft(channels, fft_length=[n])
            Hf = tf.signal.rfft(tf.transpose(self.H), fft_length=[n])  # (q, n/2 + 1)
            m = tf.signal.irfft(U[:, :, None, :] * Hf, fft_length=[n])[..., :T]
            m = tf.transpose(m, [0, 3, 1, 2])  # (b, T, c, q)
        else:  # m_t = sum_j H_j u_{t-j}: a 1-D convolution with H reversed
            flat = tf.reshape(channels, (-1, T, 1))
            padded = tf.pad(flat, [[0, 0], [T - 1, 0], [0, 0]])
            kernel = tf.reverse(self.H, axis=[0])[:, None, :]  # (T, 1, q)
            m = tf.nn.conv1d(padded, kernel, stride=1, padding="VALID")  # (b c, T, q)
            m = tf.transpose(tf.reshape(m, (-1, c, T, q)), [0, 2, 1, 3])
        return tf.reshape(m, (-1, T, c * q))


#: The longest block of `block_convolution`: its constants hold
#: ``L^2 n + L n^2`` values, which this keeps small at high orders
MAX_BLOCK = 64


def block_length(steps, order):
    """The block length of `block_convolution`: the order (at least 16 and at
    most `MAX_BLOCK` steps), at most the sequence. Up to `MAX_BLOCK`, its two
    matmuls then cost alike, ``T L n`` and ``T n^2``."""
    return min(steps, max(min(order, MAX_BLOCK), 16))


def block_operators(memory, steps, dt):
    r"""The constants of `block_convolution` for ``memory`` (its digital system
    :math:`x_t = \bar{A} x_{t-1} + \bar{B} u_t,\ m_t = C x_t`), blocks of
    `block_length` steps:

    * ``toeplitz`` ``(L, L, n)``: :math:`\bar{A}^{i-j} \bar{B}` for
      :math:`j \le i`, else 0 (a block's own input to its states);
    * ``powers`` ``(L, n, n)``: :math:`\bar{A}^{i+1}` (the state a block
      starts from, carried to its step :math:`i`);
    * ``output`` ``(order, n)``: :math:`C`.

    A system with a feedthrough :math:`D \ne 0` (never a Legendre memory's)
    is refused: the blocks compute :math:`C x_t` only.
    """
    digital = memory.system.discretize(dt)
    if np.any(digital.D):
        raise ValidationError(
            "has a feedthrough D; block_convolution computes m_t = C x_t only",
            attr="memory")
    A, B = digital.A, digital.B[:, 0]
    L, n = block_length(steps, memory.order), A.shape[0]
    impulse, powers = np.zeros((L, n)), np.zeros((L, n, n))
    x, P = B.copy(), np.eye(n)
    for i in range(L):  # L <= MAX_BLOCK products of n x n matrices
        impulse[i], x = x, A @ x
        P = A @ P
        powers[i] = P
    i, j = np.indices((L, L))
    toeplitz = np.where((j <= i)[..., None], impulse[np.clip(i - j, 0, None)], 0.0)
    return dict(toeplitz=toeplitz, powers=powers, output=np.asarray(digital.C))


def block_convolution(u, toeplitz, powers, output):
    r"""Every step's memory of sequences ``u`` ``(B, T)``: ``(B, T, order)``.

    With blocks of ``L`` steps (`block_operators`), step :math:`i` of block
    :math:`k` holds

    .. math:: x_{kL+i} = \sum_{j \le i} \bar{A}^{i-j} \bar{B} u_{kL+j}
              + \bar{A}^{i+1} X_{k-1}, \qquad
              X_k = \bar{A}^L X_{k-1} + x^{\text{own}}_{kL+L-1},

    the first term a block's own input (one batched matmul over all blocks),
    the second the state :math:`X_{k-1}` at the previous block's end, carried
    across the :math:`T / L` blocks by a scan (none for one block). That is
    ``O(T L n + T n^2)`` work for ``n`` states, against ``O(T^2 n)`` for the
    direct convolution and the FFT's ``O(T log T)`` transforms of every
    order's sequence.
    """
    L = toeplitz.shape[0]
    T = u.shape[1]
    K = -(-T // L)
    U = tf.reshape(tf.pad(u, [[0, 0], [0, K * L - T]]), (-1, K, L))
    x = tf.einsum("bkj,ijn->bkin", U, toeplitz)  # (B, K, L, n): each block's own
    if K > 1:  # (an empty scan would not stack in a graph of unknown batch)
        last = tf.transpose(x[:, :, -1], [1, 0, 2])  # (K, B, n): their own end states
        carry = tf.scan(lambda X, s: tf.linalg.matvec(powers[-1], X) + s, last[:-1],
                        initializer=tf.zeros_like(last[0]))  # X_0 ... X_{K-2}
        start = tf.concat([tf.zeros_like(last[:1]), carry], axis=0)  # X_{k-1}: (K, B, n)
        x += tf.einsum("kbn,imn->bkim", start, powers)
    x = tf.reshape(x, (-1, K * L, x.shape[-1]))[:, :T]
    return tf.tensordot(x, output, [[-1], [1]])


def fft_length(steps):
    """The FFT length of a causal convolution of ``steps``-long sequences: the
    power of two at or above ``2 * steps - 1``. Zero-padded that far, the
    circular convolution of the first ``steps`` outputs is the causal one.
    TensorFlow's CPU FFT was slower at lengths between powers of two than at
    the power above them, so the padding goes that far.
    """
    return 1 << (2 * int(steps) - 2).bit_length()


def _lmus_of(net):
    """The LMUs of an `.lmu_model` network, first to last, and its readout (of
    the last), or a ValidationError naming ``network``."""
    lmu, readout = getattr(net, "lmu", None), getattr(net, "readout", None)
    lmus = getattr(net, "lmus", [lmu])
    if (
        not isinstance(lmu, LMU)
        or not isinstance(readout, nengo.Connection)
        or not isinstance(lmus, list)
        or not lmus
        or lmus[-1] is not lmu
        or not all(isinstance(layer, LMU) for layer in lmus)
    ):
        raise ValidationError(
            "must be made by nengo_lmu.lmu_model (its LMUs, their readout and probe)",
            attr="network",
        )
    for k in range(1, len(lmus)):
        # the stack the parallel form computes: layer k reads layer k - 1's
        # output, unfiltered and unchanged, and nothing else
        into = [c for c in net.all_connections if c.post_obj is lmus[k].input]
        if not (
            len(into) == 1
            and into[0].pre_obj is lmus[k - 1].output
            and into[0].synapse is None
            and into[0].function is None
            and isinstance(into[0].transform, nengo.transforms.NoTransform)
        ):
            raise ValidationError(
                f"its layer {k} must read layer {k - 1}'s output alone, through a "
                "connection without synapse, function or transform (as lmu_model "
                "makes it)",
                attr="network",
            )
    return lmus, readout


def layer_name(k):
    """The name of a `parallel_model`'s ``k``-th `ParallelLMU` layer: ``"lmu"``
    for the first (a one-layer model's only), then ``"lmu_1"``, ``"lmu_2"``..."""
    return "lmu" if k == 0 else f"lmu_{k}"


def _built_weights(net, dt):
    """The transforms and biases the network builds with (its distributions
    sampled from its seeds), in each connection's ``(post, pre)`` layout: a
    dict per LMU, and the readout's."""
    lmus, readout = _lmus_of(net)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = nengo.builder.Model(dt=dt)
        model.build(net)
    layers = []
    for lmu in lmus:
        w = dict(input_encoders=model.params[lmu.input_encoders].weights)
        if lmu.hidden is not None:
            w["memory_kernel"] = model.params[lmu.memory_kernel].weights
            w["bias"] = model.params[lmu.hidden].bias
            if lmu.input_to_hidden:
                w["input_kernel"] = model.params[lmu.input_kernel].weights
        layers.append({k: np.array(v, dtype=float) for k, v in w.items()})
    return layers, np.array(model.params[readout].weights, dtype=float)


def parallel_model(net, steps, dt=1.0, return_sequences=True, convolution="blocks",
                   dtype="float32"):
    """A Keras model of an `.lmu_model` network, trained in parallel.

    ``(batch, steps, input_d)`` in, the readout out (``(batch, steps,
    n_out)``, or ``(batch, n_out)`` for the last step only); its weights
    start where the network's would (a `ParallelLMU` per LMU, named by
    `layer_name`, then the readout as a bias-free Dense layer named
    ``"readout"``). In a stack, layer :math:`k` computes every step's output
    :math:`h^{(k)}_{1..T}` from :math:`h^{(k-1)}_{1..T}` (one convolution
    over the whole sequence per layer); ``return_sequences=False`` applies
    to the last layer only, whose memory of the last step is then one
    contraction. Compile and fit it as any Keras model, then
    `freeze_params` puts the trained weights back into ``net``. (Keras's
    ``fit`` and ``predict`` cast float64 NumPy data to ``floatx``, float32;
    pass tensors, or set ``floatx``, to train a float64 model in float64.)

    Made inside a ``tf.distribute`` strategy's scope, the model's weights
    are the strategy's (mirrored on every replica) and ``fit`` trains on
    several devices::

        strategy = tf.distribute.MirroredStrategy()  # every GPU
        with strategy.scope():
            model = parallel_model(net, steps)
            model.compile(optimizer="adam", loss="mse")
        model.fit(x, y, batch_size=global_batch)  # split between the replicas
        freeze_params(model, net)

    Parameters
    ----------
    net : nengo.Network
        Made by `.lmu_model`, with feed-forward LMUs (`check_parallel`).
    steps : int
        Sequence length.
    dt : float, optional
        Time-step the network runs at (default 1: ``theta`` in steps).
    return_sequences, convolution
        See `ParallelLMU`.
    dtype : str, optional
        Keras dtype of the model, a floating-point one (default
        ``"float32"``).

    Returns
    -------
    ParallelModel
        A functional Keras model whose ``fit``, ``evaluate`` and ``predict``
        refuse arrays of another length than ``steps`` by name.
    """
    lmus, _ = _lmus_of(net)
    for lmu in lmus:
        check_parallel(lmu)
    steps = check_param(IntegerParam("steps", low=1), steps)
    dt = check_param(FiniteNumberParam("dt", low=0, low_open=True), dt)
    check_param(BoolParam("return_sequences"), return_sequences)
    check_param(EnumParam("convolution", values=CONVOLUTIONS), convolution)
    dtype = check_float_dtype(dtype)
    weights, readout = _built_weights(net, dt)
    inp = tf.keras.Input((steps, lmus[0].input_d), dtype=dtype)
    x = inp
    for k, (lmu, w) in enumerate(zip(lmus, weights)):
        last = k == len(lmus) - 1
        x = ParallelLMU(lmu, steps, w, dt=dt,
                        return_sequences=return_sequences or not last,
                        convolution=convolution, dtype=dtype, name=layer_name(k))(x)
    dense = tf.keras.layers.Dense(
        readout.shape[0], use_bias=False, dtype=dtype, name="readout",
        kernel_initializer=tf.keras.initializers.Constant(readout.T),
    )
    return ParallelModel(inp, dense(x))


class ParallelModel(tf.keras.Model):
    """The Keras model `parallel_model` returns: a functional model whose
    ``fit``, ``evaluate`` and ``predict`` first check array inputs.

    Its input has a fixed number of steps (the impulse response is that
    long) and the LMU's ``input_d``; a NumPy array or tensor (alone, in a
    one-item list or in a one-item dict) of another shape, or with NaN or
    infinity, raise a `~nengo.exceptions.ValidationError`
    naming ``x`` (Keras would say only that shapes are incompatible, or fail
    inside an einsum). Other inputs (datasets, generators) go to Keras
    unchecked.
    """

    def _check_x(self, x):
        if isinstance(x, dict) and len(x) == 1:  # keyed by the input's name
            x = next(iter(x.values()))
        if isinstance(x, (list, tuple)) and len(x) == 1:  # Keras's list of inputs
            x = x[0]
        if not isinstance(x, (np.ndarray, tf.Tensor)):
            return
        x = check_sequences(x, attr="x")
        steps, input_d = self.input_shape[1:]
        if x.shape[1] != steps:
            raise ValidationError(
                f"has {x.shape[1]} steps, but this parallel_model was made for "
                f"steps={steps} (shape {x.shape}): make one for that length, "
                f"parallel_model(net, {x.shape[1]}), whose weights start where "
                "freeze_params left them in net; or pad the sequences "
                "(nengo_lmu.dl.prepare_sequences)",
                attr="x",
            )
        if x.shape[2] != input_d:
            raise ValidationError(
                f"has {x.shape[2]} dimensions per step, but the LMU's input_d is "
                f"{input_d} (shape {x.shape})",
                attr="x",
            )

    def fit(self, x=None, y=None, *args, **kwargs):  # noqa: D102 (Keras's)
        self._check_x(x)
        return super().fit(x, y, *args, **kwargs)

    def evaluate(self, x=None, y=None, *args, **kwargs):  # noqa: D102 (Keras's)
        self._check_x(x)
        return super().evaluate(x, y, *args, **kwargs)

    def predict(self, x, *args, **kwargs):  # noqa: D102 (Keras's)
        self._check_x(x)
        return super().predict(x, *args, **kwargs)


def freeze_params(model, net):
    """Write a `parallel_model`'s weights into the network it was made from.

    Each trained transform replaces its connection's (as NengoDL's
    ``freeze_params`` does), and the hidden bias the ensemble's, so every
    simulator runs the trained network. The weights do not depend on the
    model's ``steps``: a model made for one length trains weights that a
    model for another, or the network, runs at any length. Every layer of a
    stack is written. A model that is not a `parallel_model` of a network of
    these sizes (as many LMUs, each of the same sizes, and the readout) is
    refused by a `~nengo.exceptions.ValidationError` naming ``model``.
    """
    lmus, readout = _lmus_of(net)
    layers = [_layer_of(model, layer_name(k)) for k in range(len(lmus) + 1)]
    readout_layer = _layer_of(model, "readout")
    if (
        layers[-1] is not None  # more layers than the network's LMUs
        or not all(_fits(layer, lmu) for layer, lmu in zip(layers, lmus))
        or tuple(getattr(readout_layer, "kernel", np.zeros(0)).shape[::-1])
        != (readout.size_out, readout.size_mid)
    ):
        raise ValidationError(
            "must be a parallel_model of this network (as many LMUs, of its LMUs' "
            "sizes)",
            attr="model",
        )

    def dense(conn, value):
        value = np.array(value, dtype=float)
        conn.transform = nengo.transforms.Dense(value.shape, init=value)

    for layer, lmu in zip(layers, lmus):
        dense(lmu.input_encoders, layer.input_encoders.numpy())
        if layer.has_hidden:
            dense(lmu.memory_kernel, layer.memory_kernel.numpy())
            lmu.hidden.bias = np.array(layer.bias.numpy(), dtype=float)
            if layer.input_kernel is not None:
                dense(lmu.input_kernel, layer.input_kernel.numpy())
    dense(readout, readout_layer.kernel.numpy().T)


def _layer_of(model, name):
    """``model``'s layer ``name``, or None."""
    try:
        return model.get_layer(name)
    except (AttributeError, ValueError):
        return None


def _fits(layer, lmu):
    """Whether ``layer`` is a `ParallelLMU` with ``lmu``'s trainable weights."""
    if not isinstance(layer, ParallelLMU) or layer.has_hidden != (lmu.hidden is not None):
        return False
    if layer.has_hidden and (layer.input_kernel is not None) != lmu.input_to_hidden:
        return False
    shapes = dict(input_encoders=(lmu.memory_d, lmu.input_d))
    if lmu.hidden is not None:
        shapes["memory_kernel"] = (lmu.units, lmu.memory_d * lmu.order)
        if lmu.input_to_hidden:
            shapes["input_kernel"] = (lmu.units, lmu.input_d)
    return all(
        getattr(layer, name, None) is not None
        and tuple(getattr(layer, name).shape) == shape
        for name, shape in shapes.items()
    )

"""Offline sequence tasks for LMUs: everything is generated or ships in a package.

Nothing here touches the network: psDigits comes from scikit-learn's bundled
8x8 digits, the UCR/UEA problems from the files inside sktime's wheel, the
rest is generated.
"""

import collections
import os

import nengo
import numpy as np
from nengo.exceptions import ValidationError
from nengo.params import BoolParam, StringParam

from nengo_lmu.params import FiniteNumberParam, IntegerParam, check_param, check_seed


def ps_digits(permutation_seed=0, test_fraction=0.25, split_seed=0):
    """Permuted sequential digits: scikit-learn's 8x8 digits as pixel sequences.

    The small, offline analogue of psMNIST: each image becomes a sequence of
    64 pixels (scaled to [0, 1]) in a fixed random order, to be classified
    after the last pixel.

    Parameters
    ----------
    permutation_seed : int, optional
        Seed of the fixed pixel permutation (shared by every image).
    test_fraction : float, optional
        Fraction of the 1797 images held out for testing (stratified).
    split_seed : int, optional
        Seed of the train/test split.

    Returns
    -------
    x_train, y_train, x_test, y_test : ndarray
        Inputs of shape ``(n, 64, 1)`` (float) and labels of shape ``(n,)``.

    Examples
    --------
    >>> x_train, y_train, x_test, y_test = ps_digits()
    >>> x_train.shape, x_test.shape
    ((1347, 64, 1), (450, 64, 1))
    """
    # imported here: scikit-learn is needed only for this dataset
    from sklearn.datasets import load_digits  # pylint: disable=import-outside-toplevel
    from sklearn.model_selection import (  # pylint: disable=import-outside-toplevel
        train_test_split,
    )

    permutation_seed = check_seed(permutation_seed, attr="permutation_seed")
    split_seed = check_seed(split_seed, attr="split_seed")
    test_fraction = check_param(
        FiniteNumberParam("test_fraction", low=0, high=1, low_open=True, high_open=True),
        test_fraction,
    )
    digits = load_digits()
    n_classes, n = len(digits.target_names), len(digits.target)
    n_test = int(np.ceil(test_fraction * n))  # scikit-learn's rounding
    if min(n_test, n - n_test) < n_classes:
        raise ValidationError(
            f"leaves {n_test} of the {n} images for testing and {n - n_test} for "
            f"training; a stratified split needs at least {n_classes} (one per "
            "class) in each",
            attr="test_fraction",
        )
    x = digits.data / 16.0
    order = np.random.RandomState(permutation_seed).permutation(x.shape[1])
    x = x[:, order, None]
    x_train, x_test, y_train, y_test = train_test_split(
        x,
        digits.target,
        test_size=test_fraction,
        random_state=split_seed,
        stratify=digits.target,
    )
    return x_train, y_train, x_test, y_test


UCRInfo = collections.namedtuple(
    "UCRInfo", ["classes", "train_lengths", "test_lengths"]
)
UCRInfo.__doc__ = """What `ucr` knows about a problem beyond the arrays.

Attributes
----------
classes : (n_classes,) ndarray of str
    The problem's class labels as sktime reads them; integer label ``k``
    stands for ``classes[k]``.
train_lengths, test_lengths : (n,) ndarray of int
    The true number of steps of each series; the first
    ``steps - length`` steps of a series are padding zeros.
"""


def _import_sktime_datasets():
    """Import ``sktime.datasets``, saying which extra provides it."""
    try:
        import sktime.datasets  # pylint: disable=import-outside-toplevel
    except ImportError as err:
        raise ImportError(
            "nengo_lmu.datasets.ucr reads the UCR/UEA archive through sktime; "
            "install it with `pip install nengo-lmu[datasets]`"
        ) from err
    return sktime.datasets


def _shipped_dir(sktime_datasets):
    """sktime's documented default data folder, ``sktime/datasets/data``."""
    return os.path.join(os.path.dirname(sktime_datasets.__file__), "data")


def _has_files(folder, name):
    """Whether ``folder/name`` holds the problem's train and test files."""
    return all(
        os.path.isfile(os.path.join(folder, name, f"{name}_{split}.ts"))
        for split in ("TRAIN", "TEST")
    )


def _classification_names():
    """Names in sktime's lists of UCR/UEA classification problems."""
    # imported here: sktime is optional
    from sktime.datasets import (  # pylint: disable=import-outside-toplevel
        tsc_dataset_names,
    )

    return set(tsc_dataset_names.univariate) | set(tsc_dataset_names.multivariate)


def ucr_names():
    """The UCR/UEA classification problems that `ucr` loads offline.

    These are the problems of sktime's archive lists
    (``sktime.datasets.tsc_dataset_names``) whose train and test files ship
    inside the installed sktime package. Anything else in the archive would
    have to be downloaded, which `ucr` refuses to do.

    Returns
    -------
    list of str
        Sorted names.

    Examples
    --------
    >>> "ArrowHead" in ucr_names()
    True
    """
    folder = _shipped_dir(_import_sktime_datasets())
    return sorted(
        name for name in _classification_names() if _has_files(folder, name)
    )


def _check_ucr_name(name, sktime_datasets):
    """Refuse, before sktime is called, any name that is not shipped."""
    name = check_param(StringParam("name"), name)
    shipped = ucr_names()
    if name in shipped:
        return name
    if name in _classification_names():
        reason = (
            f"'{name}' is in the UCR/UEA archive but not shipped with sktime; "
            "loading it would need a download, which ucr does not do"
        )
    elif _has_files(_shipped_dir(sktime_datasets), name):
        reason = (
            f"'{name}' ships with sktime but is not one of its UCR/UEA "
            "classification problems (e.g. a regression problem)"
        )
    else:
        reason = (
            f"'{name}' is not a UCR/UEA problem shipped with sktime (any other "
            "problem would need a download, which ucr does not do)"
        )
    raise ValidationError(f"{reason}. Shipped problems: {shipped}", attr="name")


def _trim_nans(cases):
    """Drop trailing NaNs, the archive's padding of short series.

    ``cases`` holds, per series, one 1-D array per dimension. Any other NaN
    is a missing value, which no network can take: it is refused.
    """
    trimmed = []
    for i, case in enumerate(cases):
        dims = [np.asarray(values, dtype=float) for values in case]
        # one length for every dimension (they share the series' time steps):
        # up to the last step at which any dimension has a value
        length = max(
            (np.flatnonzero(~np.isnan(v))[-1] + 1 if np.any(~np.isnan(v)) else 0)
            for v in dims
        )
        dims = [v[:length] for v in dims]
        if any(len(v) < length or np.isnan(v).any() for v in dims):
            raise ValueError(
                f"Series {i} has missing values (NaN) before its end; "
                "only trailing NaNs are read as padding"
            )
        trimmed.append(dims)
    return trimmed


def _lengths(cases):
    """The number of steps of each series (its longest dimension)."""
    return np.array([max(len(values) for values in case) for case in cases])


def _pad_leading(cases, steps):
    """Stack series into ``(n, steps, dims)``, zeros in front.

    Each dimension of each series ends on the last step.
    """
    x = np.zeros((len(cases), steps, len(cases[0])))
    for i, case in enumerate(cases):
        for j, values in enumerate(case):
            x[i, steps - len(values) :, j] = values
    return x


def _sorted_classes(labels):
    """Unique labels, in numeric order when all are numbers ("2" before "10")."""
    classes = np.unique(labels)
    try:
        keys = classes.astype(float)
    except ValueError:
        return classes
    return classes[np.argsort(keys, kind="stable")]


def ucr(name, return_info=False):
    """A classification problem of the UCR/UEA archive, read offline via sktime.

    Only the problems whose files ship inside sktime's wheel are available
    (`ucr_names`: ACSF1, ArrowHead, BasicMotions, GunPoint, ItalyPowerDemand,
    JapaneseVowels, OSULeaf, PLAID in sktime 0.30); any other name raises a
    `~nengo.exceptions.ValidationError` before sktime is called, so nothing
    is ever downloaded. The split is the archive's own train/test split.

    The values are those sktime reads, not transformed: the equal-length
    univariate UCR problems (ArrowHead, OSULeaf, ACSF1, ...) are stored
    z-normalised per series, while PLAID and the multivariate UEA problems
    (BasicMotions: accelerometer and gyroscope; JapaneseVowels: cepstrum
    coefficients) are raw, with per-dimension offsets and scales of their own.
    Normalise them yourself if the network needs it; do it per series over
    the true length (``info.train_lengths``), since the padding zeros would
    otherwise enter the statistics.

    Parameters
    ----------
    name : str
        The problem's name, as in the archive (case-sensitive), e.g.
        ``"ArrowHead"``.
    return_info : bool, optional
        Whether to return a fifth item, a `UCRInfo` with the class names and
        the true series lengths.

    Returns
    -------
    x_train, y_train, x_test, y_test : ndarray
        Inputs of shape ``(n, steps, dims)`` (float) and integer labels of
        shape ``(n,)`` in ``0 .. n_classes - 1``. Label ``k`` is the
        ``k``-th of the problem's class labels in sorted order (numeric order
        when all labels are numbers), the same mapping for train and test.
    info : UCRInfo
        Only if ``return_info``: ``classes``, ``train_lengths`` and
        ``test_lengths``.

    Notes
    -----
    Series of different lengths (JapaneseVowels, PLAID) are padded with
    leading zeros to the longest series of train and test together, so that
    every series ends on the last step (a trailing NaN padding in the
    archive's files is treated as missing steps the same way). A linear
    memory started at rest, such as a `.LegendreMemory` or a
    `.LinearSystem` with zero initial state, stays at rest on zero input:
    it sees a padded series exactly as the unpadded one started later, and
    its state after the last step is the same. So is the output of an LMU
    whose hidden layer gives zero on zero input (no biases, and
    :math:`f(0) = 0` as for tanh or ReLU), classified after the last step.

    It does not hold where the model responds to the zeros: hidden units with
    nonzero biases (or :math:`f(0) \\ne 0`, as for a sigmoid); neuron
    ensembles, whose neurons have biases, so that a decoded zero is only
    approximately zero (and spiking ones fire at rest); noise; input
    normalised after padding; or a reading of the steps before the last (a
    loss on every step, or a readout averaged over the series), which trains
    on or reads the padded steps too: there a trained LMU gives its answer to zero input,
    which its trained biases can make nonzero.
    Padding at the end would be worse for any model: the memory keeps moving
    through trailing zeros.

    Examples
    --------
    >>> x_train, y_train, x_test, y_test = ucr("ArrowHead")
    >>> x_train.shape, x_test.shape, sorted(set(y_train))
    ((36, 251, 1), (175, 251, 1), [0, 1, 2])

    A multivariate problem of varying length:

    >>> x_train, y_train, x_test, y_test, info = ucr(
    ...     "JapaneseVowels", return_info=True
    ... )
    >>> x_train.shape, info.classes[y_train[0]], info.train_lengths[0]
    ((270, 29, 12), '1', 20)
    >>> x_train[0, : 29 - 20].any()
    False
    """
    sktime_datasets = _import_sktime_datasets()
    name = _check_ucr_name(name, sktime_datasets)
    return_info = check_param(BoolParam("return_info"), return_info)

    folder = _shipped_dir(sktime_datasets)
    splits = []
    for split in ("train", "test"):
        # nested_univ: one pd.Series per (case, dimension), any lengths
        x, y = sktime_datasets.load_UCR_UEA_dataset(
            name, split=split, return_X_y=True, extract_path=folder
        )
        cases = [[s.to_numpy(dtype=float) for s in row] for row in x.to_numpy()]
        splits.append((_trim_nans(cases), np.asarray(y)))
    (train_cases, train_y), (test_cases, test_y) = splits

    train_lengths, test_lengths = _lengths(train_cases), _lengths(test_cases)
    steps = max(train_lengths.max(), test_lengths.max())
    x_train = _pad_leading(train_cases, steps)
    x_test = _pad_leading(test_cases, steps)

    classes = _sorted_classes(np.concatenate([train_y, test_y]))
    index = {label: k for k, label in enumerate(classes)}
    y_train = np.array([index[label] for label in train_y], dtype=int)
    y_test = np.array([index[label] for label in test_y], dtype=int)

    result = (x_train, y_train, x_test, y_test)
    if return_info:
        result += (UCRInfo(classes, train_lengths, test_lengths),)
    return result


def white_noise(n_steps, dt, high, rms=0.5, seed=None, dimensions=1):
    """Band-limited white noise sampled at ``dt``, shape ``(n_steps, dimensions)``.

    Nengo's `~nengo.processes.WhiteSignal` with a period of the whole signal.

    Parameters
    ----------
    n_steps : int
        Number of samples.
    dt : float
        Sampling interval (positive).
    high : float
        Cut-off frequency, at least ``1 / (n_steps * dt)`` (one period of the
        whole signal) and at most the Nyquist frequency ``1 / (2 dt)``.
    rms : float, optional
        Root-mean-square value.
    seed : int, optional
        Seed of the signal.
    dimensions : int, optional
        Number of independent signals.

    Returns
    -------
    ndarray
        Shape ``(n_steps, dimensions)``.
    """
    n_steps = check_param(IntegerParam("n_steps", low=1), n_steps)
    dt = check_param(FiniteNumberParam("dt", low=0, low_open=True), dt)
    high = check_param(FiniteNumberParam("high", low=0, low_open=True), high)
    rms = check_param(FiniteNumberParam("rms", low=0, low_open=True), rms)
    seed = check_seed(seed, optional=True)
    dimensions = check_param(IntegerParam("dimensions", low=1), dimensions)
    process = nengo.processes.WhiteSignal(
        period=n_steps * dt, high=high, rms=rms, seed=seed
    )
    return process.run_steps(n_steps, d=dimensions, dt=dt)


def mackey_glass(
    n_steps,
    tau=17,
    beta=0.2,
    gamma=0.1,
    power=10,
    dt=1.0,
    x0=1.2,
    substeps=10,
    washout=500,
    seed=None,
):
    """A Mackey-Glass time series, sampled every ``dt``.

    .. math:: \\dot{x}(t) = \\beta \\frac{x(t - \\tau)}{1 + x(t - \\tau)^n}
              - \\gamma x(t)

    integrated with fourth-order Runge-Kutta at ``dt / substeps``, the delayed
    term interpolated linearly between integration steps (``tau`` need not
    be a multiple of the integration step, but must be at least one).
    ``tau = 17`` gives the mildly chaotic series used in LMU and LSTM
    benchmarks.

    Parameters
    ----------
    n_steps : int
        Number of samples returned.
    tau : float
        The delay (at least ``dt / substeps``).
    beta, gamma : float
        Production and decay rates (non-negative).
    power : float
        The exponent :math:`n`.
    dt : float
        Sampling interval (positive).
    x0 : float
        Constant history before the start.
    substeps : int
        Integration steps per sample.
    washout : int
        Samples discarded at the start (the transient from ``x0``; may be 0).
    seed : int, optional
        If given, the history is ``x0`` plus small uniform noise from this seed,
        giving a different trajectory per seed.

    Returns
    -------
    ndarray
        Shape ``(n_steps,)``.

    Raises
    ------
    nengo.exceptions.ValidationError
        Naming the parameter out of range, or ``substeps`` where the
        integration does not stay finite (a step too large for ``gamma``, or
        a negative history raised to a non-integer ``power``).
    """
    n_steps = check_param(IntegerParam("n_steps", low=1), n_steps)
    tau = check_param(FiniteNumberParam("tau", low=0, low_open=True), tau)
    beta = check_param(FiniteNumberParam("beta", low=0), beta)
    gamma = check_param(FiniteNumberParam("gamma", low=0), gamma)
    power = check_param(FiniteNumberParam("power"), power)
    dt = check_param(FiniteNumberParam("dt", low=0, low_open=True), dt)
    x0 = check_param(FiniteNumberParam("x0"), x0)
    substeps = check_param(IntegerParam("substeps", low=1), substeps)
    washout = check_param(IntegerParam("washout", low=0), washout)
    seed = check_seed(seed, optional=True)
    h = dt / substeps
    # the delay in integration steps: lag + frac, interpolated between them
    # (a multiple of h within rounding counts as one: frac = 0)
    ratio = tau / h
    lag, frac = int(round(ratio)), 0.0
    if not np.isclose(ratio, lag, rtol=1e-9, atol=0):
        lag = int(np.floor(ratio))
        frac = ratio - lag
    if lag < 1:
        raise ValidationError(
            f"must be at least the integration step dt / substeps = {h:g} (got "
            f"{tau:g}); raise substeps",
            attr="tau",
        )
    total = (n_steps + washout) * substeps
    # x[1 + k] is x((k - lag) h); x[0], one step older, is only read when frac > 0
    x = np.empty(total + lag + 2)
    history = np.full(lag + 1, float(x0))
    if seed is not None:
        history += np.random.RandomState(seed).uniform(-0.05, 0.05, size=lag + 1)
    x[1 : lag + 2] = history
    x[0] = history[0]

    def f(x_now, x_lag):
        return beta * x_lag / (1 + x_lag**power) - gamma * x_now

    with np.errstate(all="ignore"):  # a diverging run is refused below
        for i in range(lag + 1, lag + 1 + total):
            # x((i - 1 - lag) h - tau) and one step later, interpolated
            xd0 = (1 - frac) * x[i - lag] + frac * x[i - lag - 1]
            xd1 = (1 - frac) * x[i - lag + 1] + frac * x[i - lag]
            xd_half = 0.5 * (xd0 + xd1)
            k1 = f(x[i], xd0)
            k2 = f(x[i] + 0.5 * h * k1, xd_half)
            k3 = f(x[i] + 0.5 * h * k2, xd_half)
            k4 = f(x[i] + h * k3, xd1)
            x[i + 1] = x[i] + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    samples = x[lag + 1 + substeps :: substeps]  # t = dt, 2 dt, ...
    samples = samples[washout : washout + n_steps]
    if not np.all(np.isfinite(samples)):
        raise ValidationError(
            f"the integration at dt / substeps = {h:g} did not stay finite: use "
            "more substeps (a smaller step), or a non-negative history x0 for a "
            "non-integer power",
            attr="substeps",
        )
    return samples

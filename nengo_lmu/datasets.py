"""Offline sequence tasks for LMUs: everything is generated or ships in a package.

Nothing here touches the network: psDigits comes from scikit-learn's bundled
8x8 digits, the rest is generated.
"""

import nengo
import numpy as np
from nengo.params import IntParam, NumberParam

from nengo_lmu.params import check_param


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

    check_param(
        NumberParam("test_fraction", low=0, high=1, low_open=True, high_open=True),
        test_fraction,
    )
    digits = load_digits()
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


def white_noise(n_steps, dt, high, rms=0.5, seed=None, dimensions=1):
    """Band-limited white noise sampled at ``dt``, shape ``(n_steps, dimensions)``.

    Nengo's `~nengo.processes.WhiteSignal` with a period of the whole signal.
    """
    n_steps = check_param(IntParam("n_steps", low=1), n_steps)
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

    integrated with fourth-order Runge-Kutta (the delayed term interpolated
    linearly) at ``dt / substeps``. ``tau = 17`` gives the mildly chaotic
    series used in LMU and LSTM benchmarks.

    Parameters
    ----------
    n_steps : int
        Number of samples returned.
    tau, beta, gamma, power : float
        Parameters of the equation (``power`` is :math:`n`).
    dt : float
        Sampling interval.
    x0 : float
        Constant history before the start.
    substeps : int
        Integration steps per sample.
    washout : int
        Samples discarded at the start (the transient from ``x0``).
    seed : int, optional
        If given, the history is ``x0`` plus small uniform noise from this seed,
        giving a different trajectory per seed.

    Returns
    -------
    ndarray
        Shape ``(n_steps,)``.
    """
    n_steps = check_param(IntParam("n_steps", low=1), n_steps)
    tau = check_param(NumberParam("tau", low=0, low_open=True), tau)
    substeps = check_param(IntParam("substeps", low=1), substeps)
    h = dt / substeps
    lag = int(round(tau / h))
    total = (n_steps + washout) * substeps
    x = np.empty(total + lag + 1)
    history = np.full(lag + 1, float(x0))
    if seed is not None:
        history += np.random.RandomState(seed).uniform(-0.05, 0.05, size=lag + 1)
    x[: lag + 1] = history

    def f(x_now, x_lag):
        return beta * x_lag / (1 + x_lag**power) - gamma * x_now

    for i in range(lag, lag + total):
        xd0, xd1 = x[i - lag], x[i - lag + 1]
        xd_half = 0.5 * (xd0 + xd1)
        k1 = f(x[i], xd0)
        k2 = f(x[i] + 0.5 * h * k1, xd_half)
        k3 = f(x[i] + 0.5 * h * k2, xd_half)
        k4 = f(x[i] + h * k3, xd1)
        x[i + 1] = x[i] + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    samples = x[lag + substeps :: substeps]  # t = dt, 2 dt, ...
    return samples[washout : washout + n_steps]

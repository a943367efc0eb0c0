"""Error measures shared by the tests, examples, demo and benchmarks."""

import numpy as np


def nrmse(x, ref, center=False):
    """Normalised root-mean-square error of ``x`` against ``ref``.

    .. math:: \\sqrt{\\langle (x - r)^2 \\rangle / \\langle r^2 \\rangle},

    pooled over every element (time steps and dimensions); with ``center``,
    over the reference's variance :math:`\\langle (r - \\bar{r})^2 \\rangle`
    instead (the usual NRMSE of time-series prediction, where a constant
    prediction of the mean scores 1).

    Examples
    --------
    >>> nrmse(np.array([1.0, 1.0]), np.array([2.0, 0.0]))
    0.7071067811865476
    """
    x, ref = np.asarray(x, dtype=float), np.asarray(ref, dtype=float)
    scale = np.mean((ref - ref.mean()) ** 2) if center else np.mean(ref**2)
    return float(np.sqrt(np.mean((x - ref) ** 2) / scale))

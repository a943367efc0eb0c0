"""nengo_lmu: Legendre Memory Units as Nengo networks.

Build an LMU as a Nengo network, train it with NengoDL, and run it spiking on
the Nengo reference simulator or the nengo-loihi emulator.

``import nengo_lmu`` imports neither TensorFlow nor NengoDL: a NengoDL build
of a `.LinearSystem` imports `nengo_lmu.dl` (its native TensorFlow builders)
when it first meets one (see `nengo_lmu.builders`), and the
submodules ``nengo_lmu.dl``, ``nengo_lmu.loihi`` and the others import on
first use.
"""

import importlib

import nengo_lmu.builders  # noqa: F401  (Nengo's builder of LinearSystem)
from nengo_lmu.legendre import (
    LegendreDelay,
    legendre_memory,
    legendre_readout,
    retained_energy,
)
from nengo_lmu.mapping import normalize, ss2sim, state_rms
from nengo_lmu.networks import LMU, LegendreMemory, LinearNetwork, lmu_model
from nengo_lmu.system import (
    LinearSystem,
    SampledSystem,
    TimeScaledSystem,
    UnstableSystemWarning,
)
from nengo_lmu.version import version as __version__

#: submodules imported on first access (they need NengoDL, nengo-loihi, ...)
_LAZY = (
    "calibration", "converters", "cost", "datasets", "demo", "dl", "keras_energy", "loihi",
    "loihi_limits", "measure", "metrics", "parallel", "paths", "realizers", "runner",
    "spiking",
)


def __getattr__(name):
    if name in _LAZY:
        return importlib.import_module(f"nengo_lmu.{name}")
    raise AttributeError(f"module 'nengo_lmu' has no attribute {name!r}")

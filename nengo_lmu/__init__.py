"""nengo_lmu: Legendre Memory Units as Nengo networks.

Build an LMU as a Nengo network, train it with NengoDL, and run it spiking on
the Nengo reference simulator or the nengo-loihi emulator.
"""

from nengo_lmu.legendre import LegendreDelay, legendre_memory, legendre_readout
from nengo_lmu.networks import LMU, LegendreMemory, lmu_model
from nengo_lmu.system import LinearSystem, TimeScaledSystem, UnstableSystemWarning
from nengo_lmu.version import version as __version__

try:
    import nengo_dl  # noqa: F401
except ImportError:  # pragma: no cover
    pass
else:
    import nengo_lmu.dl  # noqa: F401  (gives LinearSystem a NengoDL builder)
from nengo_lmu.mapping import normalize, ss2sim, state_rms  # noqa: E402

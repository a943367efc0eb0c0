"""Nengo networks: linear systems in neurons, Legendre memories, LMUs."""

from nengo_lmu.networks.linear import LinearNetwork
from nengo_lmu.networks.lmu import LMU
from nengo_lmu.networks.memory import LegendreMemory
from nengo_lmu.networks.model import lmu_model

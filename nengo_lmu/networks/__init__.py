"""Nengo networks built from Legendre memories."""

from nengo_lmu.networks.lmu import LMU
from nengo_lmu.networks.memory import LegendreMemory

"""Nengo networks built from Legendre memories."""

from nengo_lmu.networks.lmu import LMU
from nengo_lmu.networks.memory import LegendreMemory
from nengo_lmu.networks.model import lmu_model

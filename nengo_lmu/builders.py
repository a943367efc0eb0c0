"""How simulators build a `.LinearSystem`: Nengo's builder, handing NengoDL to `nengo_lmu.dl`.

Registered with Nengo's builder when nengo_lmu is imported. NengoDL's builder
asks Nengo's for objects it knows no builder of its own for, so the first
NengoDL build of a system arrives here and imports `nengo_lmu.dl`, which
registers the native TensorFlow builders with NengoDL: ``import nengo_lmu``
imports no TensorFlow, and no user needs to import `nengo_lmu.dl` for
NengoDL to use it.
"""

import sys

from nengo.builder import Builder
from nengo.builder.processes import build_process

from nengo_lmu.system import LinearSystem


@Builder.register(LinearSystem)
def build_linear_system(model, system, sig_in=None, sig_out=None, mode="set"):
    """Nengo's build of a `.LinearSystem` (and `.TimeScaledSystem`).

    The reference simulator builds it as any `~nengo.Process` (its
    ``make_step``); a NengoDL model (NengoDL is imported then) through
    `nengo_lmu.dl`, imported here.
    """
    nengo_dl_builder = sys.modules.get("nengo_dl.builder")
    if nengo_dl_builder is not None and isinstance(
        model.builder, nengo_dl_builder.NengoBuilder
    ):
        from nengo_lmu import dl  # noqa: PLC0415  (registers the NengoDL builders)

        return dl.build_system(model, system, sig_in, sig_out, mode)
    return build_process(model, system, sig_in=sig_in, sig_out=sig_out, mode=mode)

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import nengo  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _restore_nengo_precision():
    """NengoDL 3.6 sets nengo.rc's float precision to 32 bits while it builds
    and leaves it there when the build raises (as the bad-input tests make it
    do): each test starts at the precision the session began with."""
    bits = nengo.rc.get("precision", "bits")
    yield
    nengo.rc.set("precision", "bits", bits)

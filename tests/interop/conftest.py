"""tests/interop needs udata, installed in its own environment (`make interop`): the main
suite, which has no udata, leaves these tests out."""

from importlib.util import find_spec

collect_ignore = [] if find_spec("udata") else ["test_udata_harvest.py"]

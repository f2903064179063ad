"""The demo territory that `patrimoine demo` (and `make run` on an empty store) loads.

territory.py holds its organisations, accounts and the loading context; one module per
capability builds that capability's content (inventory, published data, GDPR register,
retention, sovereignty); loader.py lists the steps in order and loads them.
"""

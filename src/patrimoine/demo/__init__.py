"""The demo territory that `patrimoine demo` (and `make run` on an empty store) loads.

territory.py builds the organisations, accounts and inventory as a list of steps, `STEPS`.
A capability adds its own demo content by appending `(label, step)` to that list from its
own module in this package, where `step(ctx: DemoContext)` creates rows through the
capability's service functions with `ctx.principal`, draws randomness from `ctx.rng` only
(seeded per step, so the territory stays deterministic) and finds what earlier steps built
in `ctx.organisations`, `ctx.departments` and `ctx.accounts`.
"""

from patrimoine.demo import protection as _protection  # noqa: E402, F401  (appends its step)
from patrimoine.demo import retention as _retention  # noqa: E402, F401  (appends its step)

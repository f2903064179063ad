"""How the export and the re-import report their progress (the CLI draws Rich bars)."""

from __future__ import annotations

from typing import Protocol


class ProgressSink(Protocol):
    def start(self, label: str, total: int | None, *, in_bytes: bool = False) -> None:
        """A new step begins; `total` units of work (None: unknown), bytes if `in_bytes`."""

    def advance(self, amount: int = 1) -> None:
        """`amount` more units of the current step are done."""


class Silent:
    """No display (library use, tests)."""

    def start(self, label: str, total: int | None, *, in_bytes: bool = False) -> None:
        pass

    def advance(self, amount: int = 1) -> None:
        pass

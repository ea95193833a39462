"""A wall-clock budget for one media item, checked by the decoders between packets.

No input may hold a worker indefinitely: a poison video (a header claiming 2**31 frames, a stream
that decodes endlessly) ends as :class:`~facetrust.errors.BudgetExceededError` once its budget is
spent. Checks happen between packets and frames; one decoder call (bounded by the pixel limit) is
never interrupted midway.
"""

from __future__ import annotations

import math
import time

from ..errors import BudgetExceededError

DEFAULT_MEDIA_BUDGET_S = 300.0


def check_budget_s(value: float) -> float:
    """``value`` as a positive finite float; ValueError otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"media_budget_s must be a positive number of seconds, got {value!r}")
    return float(value)


class Deadline:
    """``budget_s`` seconds from creation (monotonic clock)."""

    def __init__(self, budget_s: float, label: str = "") -> None:
        self.budget_s = check_budget_s(budget_s)
        self.label = label
        self._end = time.monotonic() + self.budget_s

    def expired(self) -> bool:
        return time.monotonic() > self._end

    def check(self, where: str = "") -> None:
        """Raise :class:`BudgetExceededError` once the budget is spent."""
        if self.expired():
            at = f" ({where})" if where else ""
            raise BudgetExceededError(
                f"{self.label or 'media'}: exceeded its budget of {self.budget_s:g} s{at}; "
                "raise media_budget_s to scan it"
            )

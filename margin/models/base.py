"""The margin-model family: one small interface, one class per methodology.

A model turns the book's state at a step into initial and maintenance margin per path (USD). Concrete
models: :class:`~margin.models.tiered.TieredMargin`, :class:`~margin.models.risk_matrix.RiskMatrixMargin`,
:class:`~margin.models.span.SpanMargin`, :class:`~margin.models.es.ExpectedShortfallMargin`. Adding a venue's
model is one new subclass and one YAML section.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np

if TYPE_CHECKING:
    from margin.paths import MarketPaths
    from margin.valuation import StepValuation


@dataclass(frozen=True)
class Requirement:
    """Margin requirements per path, float64[n_paths], USD, both >= 0 and ``maintenance <= initial``."""

    initial: np.ndarray
    maintenance: np.ndarray


class MarginModel(ABC):
    """Base class: ``requirement(valuation, scale) -> Requirement``.

    ``scale`` (float64[n_paths], in [0, 1]) is the share of the book still open on each path after partial
    liquidations; every position is scaled by it.
    """

    name: ClassVar[str]

    def prepare(self, paths: "MarketPaths") -> None:
        """Hook run once before a simulation (e.g. to build a historical scenario set); default: nothing."""

    @abstractmethod
    def requirement(self, valuation: "StepValuation", scale: np.ndarray) -> Requirement:
        """Initial and maintenance margin of the scaled book at the valuation's step."""

    def __repr__(self) -> str:
        cfg = getattr(self, "config", None)
        return f"{type(self).__name__}({cfg!r})" if cfg is not None else f"{type(self).__name__}()"

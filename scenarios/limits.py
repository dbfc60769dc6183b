"""Risk limits for the committee report and the nightly run: a YAML file checked against stress results.

A limits file sets book-wide defaults and per-book overrides; every field is optional and ``null`` (or absent)
means "no limit"::

    es99_usd: 2000000              # ES 99 of the horizon loss, per book and scenario pack (USD)
    var99_usd: 1500000             # VaR 99 of the horizon loss (USD)
    expected_bad_debt_usd: 10000   # mean bad debt over paths (USD)
    tail_bad_debt_99_usd: 250000   # ES 99 of bad debt (USD)
    p_liquidation: 0.10            # share of paths with a liquidation
    im_coverage_min: 0.99          # share of paths whose MPOR loss stays within initial margin (a floor)
    per_portfolio:
      basis_trade: {es99_usd: 250000}
      short_vol_seller: {p_liquidation: null}   # explicit null: no P(liq) limit for this book

A per-book entry overrides the defaults field by field; fields it leaves out keep the default. Every run
(portfolio x pack x margin model) of a results ``summary.json`` is checked; a breach is a value above a
ceiling (``im_coverage_min``: below the floor).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from scenarios.errors import InputError


class LimitSet(BaseModel):
    """Limits for one book (or the defaults for all). ``None``: no limit."""

    model_config = ConfigDict(extra="forbid")

    es99_usd: float | None = Field(default=None, ge=0, description="ES 99 of the horizon loss, USD (ceiling)")
    var99_usd: float | None = Field(default=None, ge=0, description="VaR 99 of the horizon loss, USD (ceiling)")
    expected_bad_debt_usd: float | None = Field(default=None, ge=0, description="mean bad debt, USD (ceiling)")
    tail_bad_debt_99_usd: float | None = Field(default=None, ge=0, description="ES 99 of bad debt, USD (ceiling)")
    p_liquidation: float | None = Field(default=None, ge=0, le=1, description="P(liquidation) (ceiling)")
    im_coverage_min: float | None = Field(default=None, ge=0, le=1,
                                          description="IM coverage, share of paths (floor)")


class Limits(LimitSet):
    """Default limits for every book plus per-book overrides (``per_portfolio: {book: {field: value}}``)."""

    per_portfolio: dict[str, LimitSet] = Field(default_factory=dict)

    @classmethod
    def load(cls, source: "str | Path | Mapping[str, Any] | Limits | None") -> "Limits":
        """Limits from a YAML file, a mapping (e.g. a section of the nightly config) or a Limits (returned).

        Raises
        ------
        InputError
            One line naming the file (if any) and the field at fault.
        """
        if isinstance(source, Limits):
            return source
        if source is None:
            return cls()
        file: Path | None = None
        text = ""
        if isinstance(source, (str, Path)):
            file = Path(source)
            if not file.is_file():
                raise InputError("limits file not found", file=file)
            try:
                text = file.read_text(encoding="utf-8")
                raw = yaml.safe_load(text)
            except yaml.YAMLError as exc:
                mark = getattr(exc, "problem_mark", None)
                raise InputError(f"not valid YAML ({getattr(exc, 'problem', None) or exc})", file=file,
                                 row=mark.line + 1 if mark is not None else None) from None
            except (OSError, UnicodeDecodeError) as exc:
                raise InputError(f"cannot read ({exc})", file=file) from None
            if raw is None:
                return cls()
        else:
            raw = source
        if not isinstance(raw, Mapping):
            raise InputError(f"expected a mapping of limits, got {type(raw).__name__}", file=file)
        try:
            return cls.model_validate(dict(raw))
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(x) for x in err["loc"]) or "limits"
            msg = "unknown field (allowed: " + ", ".join([*LimitSet.model_fields, "per_portfolio"]) + ")" \
                if err["type"] == "extra_forbidden" else err["msg"]
            raise InputError(f"{field}: {msg}", file=file, row=_line_of(text, err["loc"]) if text else None) from None

    def for_portfolio(self, name: str) -> LimitSet:
        """The effective limits of book ``name``: defaults overridden by the fields its entry sets."""
        base = {k: getattr(self, k) for k in LimitSet.model_fields}
        own = self.per_portfolio.get(name)
        if own is not None:
            base.update({k: getattr(own, k) for k in own.model_fields_set})
        return LimitSet(**base)

    def is_empty(self) -> bool:
        """True when no limit is set anywhere."""
        sets = [self, *self.per_portfolio.values()]
        return all(getattr(s, k) is None for s in sets for k in LimitSet.model_fields)


def _line_of(text: str, loc: tuple) -> int | None:
    """1-based line of the deepest key of ``loc`` present in the YAML ``text``."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    line = None
    for part in loc:
        if not isinstance(node, yaml.MappingNode):
            break
        for key, value in node.value:
            if key.value == str(part):
                line, node = key.start_mark.line + 1, value
                break
        else:
            break
    return line


def load_limits(source: "str | Path | Mapping[str, Any] | Limits | None") -> Limits:
    """Alias of :meth:`Limits.load`."""
    return Limits.load(source)


@dataclass(frozen=True)
class Breach:
    """One limit crossed by one run. ``value`` and ``limit`` are in the metric's unit (USD or share);
    ``kind`` is ``"max"`` for ceilings (value above limit) and ``"min"`` for floors (value below limit)."""

    portfolio: str
    pack: str
    margin_model: str
    metric: str
    value: float
    limit: float
    kind: str = "max"

    @property
    def excess(self) -> float:
        """How far past the limit, in the metric's unit, always positive: above a ceiling or below a floor."""
        return self.value - self.limit if self.kind == "max" else self.limit - self.value

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"excess": self.excess}

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.portfolio, self.pack, self.margin_model, self.metric)


# metric name -> (reader of a run's metrics dict, "max" | "min")
METRICS: dict[str, tuple[Callable[[Mapping[str, Any]], float | None], str]] = {
    "es99_usd": (lambda m: m["loss_es"]["99"]["value"], "max"),
    "var99_usd": (lambda m: m["loss_var"]["99"]["value"], "max"),
    "expected_bad_debt_usd": (lambda m: m["expected_bad_debt_usd"]["value"], "max"),
    "tail_bad_debt_99_usd": (lambda m: m["tail_bad_debt_usd"]["99"], "max"),
    "p_liquidation": (lambda m: m["p_liquidation"]["value"], "max"),
    "im_coverage_min": (lambda m: m["im_coverage"]["value"], "min"),
}


def check_limits(results_summary: Mapping[str, Any], limits: Limits | None) -> list[Breach]:
    """Every (run, metric) of a results ``summary.json`` that crosses its book's limit.

    Parameters
    ----------
    results_summary : mapping
        ``stressgan stress``'s ``summary.json`` (``runs``: portfolio, pack, margin_model, metrics).
    limits : Limits, optional
        None or empty: no breaches.

    Returns
    -------
    list of Breach
        In run order, then metric order of :data:`METRICS`. A metric that is missing or None in a run is
        skipped.
    """
    if limits is None:
        return []
    out: list[Breach] = []
    for run in results_summary.get("runs", []):
        eff = limits.for_portfolio(run["portfolio"])
        for metric, (read, kind) in METRICS.items():
            limit = getattr(eff, metric)
            if limit is None:
                continue
            try:
                value = read(run["metrics"])
            except (KeyError, TypeError):
                continue
            if value is None:
                continue
            crossed = value > limit if kind == "max" else value < limit
            if crossed:
                out.append(Breach(run["portfolio"], run["pack"], run["margin_model"], metric, float(value),
                                  float(limit), kind))
    return out


def unmatched_books(results_summary: Mapping[str, Any], limits: Limits | None) -> list[str]:
    """Books named under ``per_portfolio`` that no run has (a typo there silently drops a book's limits)."""
    if limits is None:
        return []
    names = {run["portfolio"] for run in results_summary.get("runs", [])}
    return sorted(set(limits.per_portfolio) - names)

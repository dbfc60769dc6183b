"""``stressgan nightly``: data -> (model) -> packs -> fidelity -> stress -> report, into ``ROOT/DATE/``.

Idempotent and resumable. Every stage has a key (sha256 of its inputs: config section, data fingerprint,
upstream artefact checksums). ``state.json`` records, per stage, the key and the sha256 of every file it wrote;
a rerun skips a stage whose key matches and whose files still verify, and redoes a stage that is missing,
stale (inputs changed) or damaged. Directory outputs are built in a temporary sibling and swapped into place,
files are written atomically, so a run killed at any point leaves only whole artefacts (and temporaries that
the next run removes). ``summary.json`` is written last: it is the run's manifest.

A lock file (``ROOT/DATE/.lock``, ``flock``) stops two runs on one date. Exit codes: 0 ok; 1 limits
breached (the report is still written); 2 bad input or configuration, or the date is locked by another run;
3 internal failure.

The run date fixes the data: bars before the end of that day (UTC) are used, so rerunning an old date
reproduces it while newer data accumulates in the same files.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import time
import uuid
from contextlib import contextmanager
from datetime import date as Date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterator, Literal

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from scenarios import __version__
from scenarios.console import Reporter
from scenarios.errors import InputError
from scenarios.io import sha256_file, write_json_atomic
from scenarios.limits import Limits
from scenarios.market import BUNDLED, MarketData, load_market
from scenarios.regimes import REGIMES

EXIT_OK, EXIT_LIMITS = 0, 1
STATE = "state.json"


# ------------------------------------------------------------------------------------------------- config


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DataSpec(_Strict):
    path: str | list[str] = "hourly"  # 'hourly' / 'daily' (bundled) or file path(s)
    format: str = "auto"
    allow_gaps: bool = False


class ModelSpec(_Strict):
    dir: str | None = None  # a trained model directory; None: the shipped model (or the latest retrained one)
    retrain: Literal["never", "daily", "weekly", "monthly"] = "never"
    max_minutes: float = Field(30.0, gt=0)
    max_epochs: int | None = Field(None, gt=0)
    seed: int = 0


class RegimeSpec(_Strict):
    regime: str
    severity: float | None = Field(None, ge=0, le=1)

    @field_validator("regime")
    @classmethod
    def _known(cls, v: str) -> str:
        if v not in REGIMES and v != "all":
            raise ValueError(f"unknown regime {v!r}; choose one of {', '.join(REGIMES)} or all")
        return v


class ScenarioSpec(_Strict):
    sources: list[Literal["gan", "garch", "gjr", "fhs", "historical"]] = ["gan", "gjr", "fhs", "historical"]
    regimes: list[RegimeSpec] = Field(default_factory=lambda: [RegimeSpec(regime="flash_crash"),
                                                               RegimeSpec(regime="liquidity_drought")])
    paths: int = Field(20000, gt=0)
    horizon: int = Field(24, gt=0)
    seed: int = Field(0, ge=0)
    chunk_size: int = Field(65536, gt=0)


class FidelitySpec(_Strict):
    enabled: bool = True
    lookback_days: float | None = Field(None, gt=0)  # real windows of the last N days; None = all data


class NightlyConfig(_Strict):
    """The nightly YAML (see the README for an annotated example)."""

    name: str = "nightly"
    output_root: str
    data: DataSpec = DataSpec()
    model: ModelSpec = ModelSpec()
    scenarios: ScenarioSpec = ScenarioSpec()
    portfolios: list[str] = Field(min_length=1)
    margin_models: list[Literal["tiered", "risk_matrix", "span", "es"]] | None = None
    venue: str | None = None
    limits: Limits | None = None
    fidelity: FidelitySpec = FidelitySpec()

    @classmethod
    def load(cls, path: Path) -> "NightlyConfig":
        """Read and validate; errors name the file, the field and (where YAML tells) the line."""
        if not path.exists():
            raise InputError("config file not found", file=path)
        text = path.read_text()
        try:
            raw = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            raise InputError(f"not valid YAML ({getattr(exc, 'problem', exc)})", file=path,
                             row=mark.line + 1 if mark else None) from None
        if not isinstance(raw, dict):
            raise InputError("expected a mapping of settings at the top level", file=path)
        try:
            cfg = cls(**raw)
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = ".".join(str(x) for x in err["loc"])
            line = _line_of(text, err["loc"])
            raise InputError(f"{loc}: {err['msg']}", file=path, row=line) from None
        root = Path(cfg.output_root)
        if not root.is_absolute():  # relative to the config file, so cron's working directory does not matter
            cfg.output_root = str((path.parent / root).resolve())
        cfg.portfolios = [str((path.parent / p).resolve()) if (path.parent / p).exists() else p
                          for p in cfg.portfolios]
        return cfg


def _line_of(text: str, loc: tuple) -> int | None:
    """1-based line of the first key of ``loc`` found in the YAML text (best effort)."""
    keys = [k for k in loc if isinstance(k, str)]
    if not keys:
        return None
    for i, line in enumerate(text.splitlines(), 1):
        if line.strip().startswith(f"{keys[-1]}:") or line.strip().startswith(f"- {keys[-1]}:"):
            return i
    for i, line in enumerate(text.splitlines(), 1):
        if line.strip().startswith(f"{keys[0]}:"):
            return i
    return None


# ------------------------------------------------------------------------------------------------- state


def digest(obj: Any) -> str:
    """sha256 of the canonical JSON of ``obj`` (first 20 hex)."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:20]


class RunState:
    """``state.json`` of one run directory: stage -> {key, files: {relpath: sha256}, seconds, finished_at}."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.path = run_dir / STATE
        self.stages: dict[str, dict[str, Any]] = {}
        if self.path.exists():
            try:
                self.stages = json.loads(self.path.read_text()).get("stages", {})
            except (json.JSONDecodeError, AttributeError):
                self.stages = {}  # a damaged state file only costs a redo of every stage

    def done(self, stage: str, key: str) -> bool:
        """The stage finished with this key and every file it wrote is still there, unchanged."""
        rec = self.stages.get(stage)
        if not rec or rec.get("key") != key:
            return False
        for rel, sha in rec.get("files", {}).items():
            p = self.run_dir / rel
            if not p.is_file() or sha256_file(p) != sha:
                return False
        return True

    def record(self, stage: str, key: str, outputs: list[Path], seconds: float, **extra: Any) -> None:
        files = {}
        for out in outputs:
            items = sorted(q for q in out.rglob("*") if q.is_file()) if out.is_dir() else [out]
            for q in items:
                files[str(q.relative_to(self.run_dir))] = sha256_file(q)
        self.stages[stage] = {"key": key, "files": files, "seconds": round(seconds, 3),
                              "finished_at": _now()} | extra
        write_json_atomic({"stages": self.stages}, self.path)

    def get(self, stage: str) -> dict[str, Any]:
        return self.stages.get(stage, {})


@contextmanager
def staged_dir(final: Path) -> Iterator[Path]:
    """A temporary sibling directory that replaces ``final`` when the block succeeds."""
    tmp = final.parent / f".{final.name}.tmp-{uuid.uuid4().hex[:8]}"
    tmp.mkdir(parents=True)
    try:
        yield tmp
        if final.exists():
            old = final.parent / f".{final.name}.old-{uuid.uuid4().hex[:8]}"
            os.replace(final, old)
            os.replace(tmp, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, final)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


@contextmanager
def date_lock(run_dir: Path) -> Iterator[None]:
    """Exclusive lock on the run directory; InputError if another process holds it."""
    run_dir.mkdir(parents=True, exist_ok=True)
    fh = open(run_dir / ".lock", "a+")
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.seek(0)
        holder = fh.read().strip() or "another process"
        fh.close()
        raise InputError(f"another nightly run holds the lock for this date ({holder})", file=run_dir) from None
    fh.seek(0)
    fh.truncate()
    fh.write(f"pid {os.getpid()} since {_now()}")
    fh.flush()
    try:
        yield
    finally:
        fcntl.flock(fh, fcntl.LOCK_UN)
        fh.close()


def clean_temporaries(run_dir: Path) -> int:
    """Remove ``.*.tmp-*`` / ``.*.old-*`` leftovers of a killed run; returns how many."""
    n = 0
    for p in list(run_dir.rglob(".*.tmp-*")) + list(run_dir.rglob(".*.old-*")):
        if p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)
        n += 1
    return n


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# ------------------------------------------------------------------------------------------------- runner


class NightlyRun:
    """One nightly run (``run()`` returns the exit code; the stages are methods, in order)."""

    def __init__(self, config: NightlyConfig, run_date: Date, reporter: Reporter, config_path: Path | None = None
                 ) -> None:
        self.cfg = config
        self.date = run_date
        self.root = Path(config.output_root)
        self.dir = self.root / run_date.isoformat()
        self.reporter = reporter
        self.config_path = config_path
        self.state: RunState | None = None
        self.timings: dict[str, float] = {}
        self.skipped: list[str] = []

    # -- driver
    def run(self) -> int:
        t0 = time.perf_counter()
        with date_lock(self.dir):
            self.reporter.attach_log(self.dir / "run.log")
            try:
                self.reporter.info(f"nightly {self.cfg.name} {self.date} -> {self.dir}")
                removed = clean_temporaries(self.dir)
                if removed:
                    self.reporter.info(f"removed {removed} temporary leftover(s) of an interrupted run")
                self.state = RunState(self.dir)
                market = self.stage_data()
                model_dir, model_key = self.stage_model(market)
                packs = self.stage_packs(market, model_dir, model_key)
                fidelity = self.stage_fidelity(market, packs)
                results = self.stage_stress(market, packs)
                report = self.stage_report(results, fidelity)
                code = EXIT_LIMITS if report["breaches"] else EXIT_OK
                self.write_summary(report, packs, model_dir, code, time.perf_counter() - t0)
                msg = (f"{len(report['breaches'])} limit breach(es)" if code else "no limit breached")
                self.reporter.info(f"done in {time.perf_counter() - t0:.1f}s: {msg}; report: "
                                   f"{self.dir / 'report' / 'report.html'}")
                return code
            finally:
                self.reporter.detach_log()

    def _stage(self, name: str, key: str, outputs: list[Path], work: Callable[[], Any], **extra: Any) -> bool:
        """Run ``work`` unless the stage is done with ``key``; returns True when it ran."""
        assert self.state is not None
        if self.state.done(name, key):
            self.reporter.info(f"{name}: up to date, skipped")
            self.skipped.append(name)
            return False
        t = time.perf_counter()
        self.reporter.info(f"{name}: running")
        work()
        dt = time.perf_counter() - t
        self.timings[name] = dt
        self.state.record(name, key, outputs, dt, **extra)
        self.reporter.info(f"{name}: done in {dt:.1f}s")
        return True

    # -- stages
    def stage_data(self) -> MarketData:
        spec = self.cfg.data
        paths = spec.path if isinstance(spec.path, list) else [spec.path]
        if len(paths) == 1 and paths[0] in BUNDLED:
            md = load_market(paths[0])
        else:
            md = load_market([Path(p) for p in paths] if len(paths) > 1 else Path(paths[0]), fmt=spec.format,
                             allow_gaps=spec.allow_gaps)
        md = md.between(None, pd.Timestamp(self.date + timedelta(days=1), tz="UTC"))
        out = self.dir / "data.json"
        from scenarios.inspection import summarize_market

        summary = summarize_market(md)
        self._stage("data", md.fingerprint(), [out], lambda: write_json_atomic(summary, out))
        return md

    def stage_model(self, market: MarketData) -> tuple[Path | None, str]:
        """The GAN model for today (retrained when the cadence says so); (None, "") without a GAN source."""
        from scenarios.neural import model_fingerprint, shipped_model_dir, train_model

        if "gan" not in self.cfg.scenarios.sources:
            return None, ""
        spec = self.cfg.model
        models = self.root / "models"
        due = _retrain_due(models, self.date, spec.retrain)
        if due:
            run = models / self.date.isoformat()

            def work() -> None:
                train_model(market, run, train_end=None, max_epochs=spec.max_epochs, max_minutes=spec.max_minutes,
                            seed=spec.seed, progress=self.reporter.interactive,
                            command=f"stressgan nightly {self.config_path or ''} --date {self.date}")

            key = digest({"data": market.fingerprint(), "model": spec.model_dump()})
            self._stage("model", key, [run / "model"], work)
            model_dir = run / "model"
        elif spec.retrain != "never" and _latest_model(models, self.date) is not None:
            model_dir = _latest_model(models, self.date)
        else:
            model_dir = Path(spec.dir) if spec.dir else shipped_model_dir()
        return model_dir, model_fingerprint(model_dir)

    def pack_specs(self) -> list[tuple[str, str, float | None]]:
        return [(src, r.regime, r.severity) for r in self.cfg.scenarios.regimes for src in self.cfg.scenarios.sources]

    def stage_packs(self, market: MarketData, model_dir: Path | None, model_key: str) -> list[Path]:
        from scenarios.generate import GenerateRequest, generate_pack
        from scenarios.pack import read_manifest

        sc = self.cfg.scenarios
        out = []
        for src, regime, severity in self.pack_specs():
            name = f"{src}_{regime}" + (f"_{severity:g}" if severity is not None else "")
            d = self.dir / "packs" / name
            req = GenerateRequest(source=src, regime=regime, severity=severity, n=sc.paths, horizon=sc.horizon,
                                  seed=sc.seed, model_dir=model_dir if src == "gan" else None,
                                  chunk_size=sc.chunk_size)
            key = digest({"request": {k: str(v) for k, v in vars(req).items()}, "data": market.fingerprint(),
                          "model": model_key if src == "gan" else None, "version": __version__})
            stage = f"pack:{name}"
            if self.state.done(stage, key):
                try:
                    read_manifest(d, verify=True)
                except InputError:
                    self.state.stages.pop(stage, None)
            self._stage(stage, key, [d], lambda: generate_pack(market, req, d, overwrite=True,
                                                              reporter=self.reporter))
            out.append(d)
        return out

    def stage_fidelity(self, market: MarketData, packs: list[Path]) -> Path | None:
        from scenarios.evaluation import evaluate_packs

        if not self.cfg.fidelity.enabled:
            return None
        start = None
        if self.cfg.fidelity.lookback_days:
            start = (market.frame.index[-1] - pd.Timedelta(days=self.cfg.fidelity.lookback_days)).isoformat()
        d = self.dir / "fidelity"
        key = digest({"packs": [self.state.get(f"pack:{p.name}").get("key") for p in packs], "start": start})

        def work() -> None:
            with staged_dir(d) as tmp:
                res = evaluate_packs(packs, market, start=start, seed=self.cfg.scenarios.seed)
                write_json_atomic(res, tmp / "fidelity.json")

        self._stage("fidelity", key, [d], work)
        return d / "fidelity.json"

    def stage_stress(self, market: MarketData, packs: list[Path]) -> Path:
        from scenarios.stress import run_stress

        d = self.dir / "results"
        books = []
        for ref in self.cfg.portfolios:
            p = Path(ref)
            books.append({"ref": ref, "sha256": sha256_file(p) if p.is_file() else None})
        key = digest({"packs": [self.state.get(f"pack:{p.name}").get("key") for p in packs], "books": books,
                      "models": self.cfg.margin_models, "venue": self.cfg.venue, "version": __version__})

        def work() -> None:
            with staged_dir(d) as tmp:
                run_stress(self.cfg.portfolios, packs, tmp, margin_models=self.cfg.margin_models,
                           venue=self.cfg.venue, data=market, seed=self.cfg.scenarios.seed, reporter=self.reporter)

        self._stage("stress", key, [d], work)
        return d

    def stage_report(self, results: Path, fidelity: Path | None) -> dict[str, Any]:
        from scenarios.report import build_report

        d = self.dir / "report"
        previous = _previous_report(self.root, self.date)
        key = digest({"results": self.state.get("stress").get("key"),
                      "fidelity": self.state.get("fidelity").get("key") if fidelity else None,
                      "limits": self.cfg.limits.model_dump() if self.cfg.limits else None,
                      "previous": sha256_file(previous) if previous else None, "version": __version__})
        run_info = {"run": self.cfg.name, "date": self.date.isoformat(), "config": str(self.config_path),
                    "stressgan_version": __version__}

        def work() -> None:
            with staged_dir(d) as tmp:
                build_report(results, tmp, fidelity=fidelity, limits=self.cfg.limits, previous=previous,
                             run_info=run_info)

        self._stage("report", key, [d], work)
        return json.loads((d / "summary.json").read_text())

    def write_summary(self, report: dict[str, Any], packs: list[Path], model_dir: Path | None, code: int,
                      seconds: float) -> None:
        assert self.state is not None
        artefacts = {}
        for stage, rec in self.state.stages.items():
            artefacts.update(rec.get("files", {}))
        summary = {
            "kind": "stressgan.nightly-run", "name": self.cfg.name, "date": self.date.isoformat(),
            "status": "limits_breached" if code == EXIT_LIMITS else "ok", "exit_code": code,
            "breaches": report.get("breaches", []), "report": "report/report.html",
            "model": str(model_dir) if model_dir else None,
            "packs": [str(p.relative_to(self.dir)) for p in packs],
            "stages": {k: {"seconds": v.get("seconds"), "finished_at": v.get("finished_at"),
                           "skipped_this_run": k in self.skipped} for k, v in self.state.stages.items()},
            "seconds_this_run": round(seconds, 2), "finished_at": _now(), "stressgan_version": __version__,
            "config": self.cfg.model_dump(mode="json"), "artefacts": artefacts,
        }
        write_json_atomic(summary, self.dir / "summary.json")


def _retrain_due(models: Path, run_date: Date, cadence: str) -> bool:
    if cadence == "never":
        return False
    if cadence == "daily":
        return True
    latest = _latest_model_date(models, run_date)
    if latest is None:
        return True
    days = (run_date - latest).days
    return days >= (7 if cadence == "weekly" else 30) or latest == run_date


def _latest_model_date(models: Path, run_date: Date) -> Date | None:
    dates = []
    for p in models.glob("*/model/model.safetensors"):
        try:
            d = Date.fromisoformat(p.parent.parent.name)
        except ValueError:
            continue
        if d <= run_date:
            dates.append(d)
    return max(dates) if dates else None


def _latest_model(models: Path, run_date: Date) -> Path | None:
    d = _latest_model_date(models, run_date)
    return None if d is None else models / d.isoformat() / "model"


def _previous_report(root: Path, run_date: Date) -> Path | None:
    """summary.json of the latest earlier run's report under ``root``."""
    best = None
    for p in root.glob("*/report/summary.json"):
        try:
            d = Date.fromisoformat(p.parent.parent.name)
        except ValueError:
            continue
        if d < run_date and (best is None or d > best[0]):
            best = (d, p)
    return best[1] if best else None


def run_nightly(config_path: Path, run_date: Date | None = None, *, quiet: bool = False,
                config: NightlyConfig | None = None) -> int:
    """Load the config and run; returns the exit code (0 ok, 1 limits breached)."""
    cfg = config or NightlyConfig.load(config_path)
    run_date = run_date or datetime.now(timezone.utc).date()
    return NightlyRun(cfg, run_date, Reporter(quiet), config_path).run()

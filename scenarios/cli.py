"""The ``stressgan`` command line: one entry point, thin commands over the library.

Exit codes (for schedulers): 0 ok; 1 limits breached (``nightly``; the report is still written);
2 bad input or configuration (a one-line ``error: ...``); 3 internal failure (a bug: the traceback goes to the log
or, with ``--debug``, to the terminal).
"""

from __future__ import annotations

import functools
import json
import sys
import traceback
from pathlib import Path
from typing import Annotated, Callable, Optional

import typer

from scenarios.console import Reporter
from scenarios.errors import InputError

EXIT_OK, EXIT_LIMITS, EXIT_INPUT, EXIT_INTERNAL = 0, 1, 2, 3

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Conditional-GAN scenario packs and margin-engine stress tests for crypto derivatives.")
data_app = typer.Typer(no_args_is_help=True, help="Inspect and label market data.")
pack_app = typer.Typer(no_args_is_help=True, help="Check scenario packs.")
app.add_typer(data_app, name="data")
app.add_typer(pack_app, name="pack")

_state = {"debug": False}

DataOpt = Annotated[Optional[list[str]], typer.Option(
    "--data", help="Market data: 'hourly' (bundled BTC-USD, default), 'daily' (bundled BTC/ETH/LTC) or files "
                   "(CSV, Parquet, Binance zip); repeat for several files.")]
FormatOpt = Annotated[str, typer.Option("--format", help="auto|cryptodatadownload|binance|wide|ohlcv")]
GapsOpt = Annotated[bool, typer.Option("--allow-gaps", help="Leave long gaps out instead of refusing the data.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")]


def guarded(fn: Callable) -> Callable:
    """Turn library errors into one-line messages and scheduler-friendly exit codes."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except typer.Exit:
            raise
        except InputError as exc:
            typer.echo(f"error: {exc.message}", err=True)
            raise typer.Exit(EXIT_INPUT) from None
        except KeyboardInterrupt:
            typer.echo("error: interrupted", err=True)
            raise typer.Exit(130) from None
        except Exception as exc:  # noqa: BLE001 - the last line of defence
            user = _user_error(exc)
            if user is not None:
                typer.echo(f"error: {user}", err=True)
                raise typer.Exit(EXIT_INPUT) from None
            if _state["debug"]:
                traceback.print_exc()
            else:
                from scenarios.console import log

                log.error("internal failure\n%s", traceback.format_exc())
            typer.echo(f"internal error: {exc.__class__.__name__}: {exc} (rerun with --debug for the traceback)",
                       err=True)
            raise typer.Exit(EXIT_INTERNAL) from None

    return wrapper


def _user_error(exc: Exception) -> str | None:
    """The message of errors that the libraries raise for bad user input (they cannot import InputError)."""
    for cls_name in ("ConfigError", "ModelLoadError", "PortfolioError", "VenueError", "MarginInputError"):
        if exc.__class__.__name__ == cls_name or any(c.__name__ == cls_name for c in type(exc).__mro__):
            return str(exc).splitlines()[0] if str(exc) else cls_name
    return None


@app.callback()
def main_callback(debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of internal errors.")] = False
                  ) -> None:
    _state["debug"] = debug


def load_data(data: list[str] | None, fmt: str = "auto", allow_gaps: bool = False):
    """The market data named by ``--data`` options."""
    from scenarios.market import BUNDLED, load_market

    if not data:
        return load_market()
    if len(data) == 1 and data[0] in BUNDLED:
        return load_market(data[0])
    return load_market([Path(d) for d in data] if len(data) > 1 else Path(data[0]), fmt=fmt,
                       allow_gaps=allow_gaps)


# ------------------------------------------------------------------------------------------------ data


@data_app.command("inspect")
@guarded
def data_inspect(path: Annotated[list[str], typer.Argument(help="Data file(s), or 'hourly' / 'daily'.")],
                 fmt: FormatOpt = "auto", allow_gaps: GapsOpt = False,
                 as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Print assets, frequency, period, rows, gaps and basic statistics."""
    from scenarios.inspection import summarize_market
    from scenarios.tables import print_market_summary

    s = summarize_market(load_data(path, fmt, allow_gaps))
    if as_json:
        typer.echo(json.dumps(s, indent=2))
    else:
        print_market_summary(s)


@data_app.command("label")
@guarded
def data_label(path: Annotated[list[str], typer.Argument(help="Data file(s), or 'hourly' / 'daily'.")],
               out: Annotated[Path, typer.Option("--out", help="Episodes CSV to write.")],
               horizon: Annotated[int, typer.Option(help="Window length in bars for the window rules.")] = 24,
               fmt: FormatOpt = "auto", allow_gaps: GapsOpt = False, quiet: QuietOpt = False) -> None:
    """Find flash crashes, liquidity droughts and volatile stretches; write them as episodes."""
    from scenarios.episodes import find_episodes, hours_by_regime
    from scenarios.features import compute_features
    from scenarios.io import write_csv_atomic
    from scenarios.tables import print_episode_summary
    from scenarios.windows import cut_windows

    if horizon < 2:
        raise InputError(f"--horizon must be at least 2 bars, got {horizon}")
    f = compute_features(load_data(path, fmt, allow_gaps))
    rules = cut_windows(f, context_len=1, horizon=horizon).rules
    ep = find_episodes(f, rules, window=horizon)
    write_csv_atomic(ep, out)
    if not quiet:
        print_episode_summary(ep, hours_by_regime(f, rules, window=horizon), rules, out)


# ------------------------------------------------------------------------------------------------ generate, train


@app.command("generate")
@guarded
def generate(
    source: Annotated[str, typer.Option(help="gan | garch | gjr | fhs | historical")],
    out: Annotated[Path, typer.Option("--out", help="Pack directory to write.")],
    data: DataOpt = None,
    regime: Annotated[str, typer.Option(help="calm | volatile | flash_crash | liquidity_drought | all")] = "all",
    severity: Annotated[Optional[float], typer.Option(help="Within-regime severity quantile in [0, 1] "
                                                           "(default 0.5).")] = None,
    n: Annotated[int, typer.Option("--n", help="Number of paths.")] = 10000,
    horizon: Annotated[int, typer.Option(help="Steps per path.")] = 24,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same bytes).")] = 0,
    model: Annotated[Optional[Path], typer.Option("--model", help="GAN model directory (default: shipped).")] = None,
    context_start: Annotated[Optional[str], typer.Option(help="Draw contexts from windows ending at or after.")] = None,
    context_end: Annotated[Optional[str], typer.Option(help="... and before this time.")] = None,
    train_end: Annotated[Optional[str], typer.Option(help="Baselines fit only on data before this time.")] = None,
    chunk_size: Annotated[int, typer.Option(help="Paths per generation chunk (memory bound).")] = 65536,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing pack at --out.")] = False,
    fmt: FormatOpt = "auto", allow_gaps: GapsOpt = False, quiet: QuietOpt = False,
) -> None:
    """Generate a scenario pack from the GAN or a baseline."""
    from scenarios.generate import GenerateRequest, generate_pack

    md = load_data(data, fmt, allow_gaps)
    req = GenerateRequest(source=source, regime=regime, severity=severity, n=n, horizon=horizon, seed=seed,
                          context_start=context_start, context_end=context_end, train_end=train_end,
                          model_dir=model, chunk_size=chunk_size)
    m = generate_pack(md, req, out, overwrite=overwrite, reporter=Reporter(quiet))
    if not quiet:
        typer.echo(f"wrote {out}: {m.source} {m.regime} severity {m.severity}, {m.n_paths} paths x {m.horizon} "
                   f"steps, {', '.join(m.assets)}, {len(m.contexts)} context(s), pack {m.pack_id}")


@app.command("train")
@guarded
def train(
    out: Annotated[Path, typer.Option("--out", help="Run directory (checkpoints, logs, model/).")],
    data: DataOpt = None,
    train_end: Annotated[Optional[str], typer.Option(help="Train only on windows ending before this time; the "
                                                          "latest 15% of them validate.")] = None,
    config: Annotated[Optional[Path], typer.Option(help="GanConfig YAML/JSON (keys override the defaults).")] = None,
    max_epochs: Annotated[Optional[int], typer.Option(help="Stop after this many epochs.")] = None,
    max_minutes: Annotated[Optional[float], typer.Option(help="Stop after this many minutes.")] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    context_len: Annotated[int, typer.Option(help="Context bars the model conditions on.")] = 48,
    horizon: Annotated[int, typer.Option(help="Steps the model generates at once.")] = 24,
    accelerator: Annotated[str, typer.Option(help="Lightning accelerator (auto uses a GPU when present).")] = "auto",
    devices: Annotated[str, typer.Option(help="Lightning devices (auto, 1, 2, ...).")] = "auto",
    strategy: Annotated[str, typer.Option(help="Lightning strategy (auto, ddp, ...).")] = "auto",
    fmt: FormatOpt = "auto", allow_gaps: GapsOpt = False, quiet: QuietOpt = False,
) -> None:
    """Train the conditional GAN (resumes from OUT/last.ckpt) and export OUT/model."""
    from scenarios.neural import train_model

    if max_epochs is None and max_minutes is None:
        raise InputError("give --max-epochs or --max-minutes (or both)")
    md = load_data(data, fmt, allow_gaps)
    dev = int(devices) if devices.isdigit() else devices
    res = train_model(md, out, train_end=train_end, config_path=config, context_len=context_len, horizon=horizon,
                      max_epochs=max_epochs, max_minutes=max_minutes, seed=seed, progress=not quiet,
                      accelerator=accelerator, devices=dev, strategy=strategy)
    if not quiet:
        typer.echo(f"trained {res.epochs} epochs ({res.global_step} optimizer steps); best selection score "
                   f"{res.best_score}; model in {res.model_dir}")


@app.command("evaluate")
@guarded
def evaluate_cmd(
    packs: Annotated[list[Path], typer.Argument(help="Pack directories to compare.")],
    out: Annotated[Path, typer.Option("--out", help="Directory for fidelity.json and fidelity.csv.")],
    data: DataOpt = None,
    start: Annotated[Optional[str], typer.Option(help="Real windows from this time (held-out period).")] = None,
    end: Annotated[Optional[str], typer.Option(help="... up to this time.")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the classifier and subsampling.")] = 0,
    fmt: FormatOpt = "auto", allow_gaps: GapsOpt = False, quiet: QuietOpt = False,
) -> None:
    """Fidelity of packs against real windows of a period; one column per pack."""
    from scenarios.evaluation import evaluate_packs, table
    from scenarios.io import write_csv_atomic, write_json_atomic
    from scenarios.tables import print_frame

    md = load_data(data, fmt, allow_gaps)
    res = evaluate_packs(packs, md, start=start, end=end, seed=seed)
    out.mkdir(parents=True, exist_ok=True)
    write_json_atomic(res, out / "fidelity.json")
    t = table(res)
    write_csv_atomic(t, out / "fidelity.csv", index=True)
    if not quiet:
        print_frame(t, title=f"Fidelity against real windows {start or 'start'} .. {end or 'end'}")
        typer.echo(f"wrote {out / 'fidelity.json'} and {out / 'fidelity.csv'}")


@app.command("stress")
@guarded
def stress_cmd(
    portfolio: Annotated[list[str], typer.Option("--portfolio", help="Shipped book name or portfolio YAML; "
                                                                       "repeat for several.")],
    pack: Annotated[list[Path], typer.Option("--pack", help="Pack directory; repeat for several.")],
    out: Annotated[Path, typer.Option("--out", help="Results directory.")],
    margin_model: Annotated[Optional[list[str]], typer.Option(
        "--margin-model", help="tiered | risk_matrix | span | es; repeat to compare (default: each book's own).")] = None,
    venue: Annotated[Optional[str], typer.Option(help="Venue for every book (shipped name or YAML); 'reference' "
                                                      "defines all four models.")] = None,
    data: DataOpt = None,
    seed: Annotated[int, typer.Option(help="Seed of the bootstrap intervals.")] = 0,
    fmt: FormatOpt = "auto", allow_gaps: GapsOpt = False, quiet: QuietOpt = False,
) -> None:
    """Run portfolios through packs; write per-path results, summary.json and print tail metrics."""
    from scenarios.stress import results_table, run_stress
    from scenarios.tables import print_frame

    md = load_data(data, fmt, allow_gaps) if data else None
    res = run_stress(portfolio, pack, out, margin_models=margin_model, venue=venue, data=md, seed=seed, reporter=Reporter(quiet))
    if not quiet:
        print_frame(results_table(res).set_index("portfolio"), title="Stress results (losses positive, USD)",
                    floatfmt="{:,.4g}")
        typer.echo(f"wrote {out / 'summary.json'}")


@app.command("report")
@guarded
def report_cmd(
    results: Annotated[Path, typer.Argument(metavar="RESULTS_DIR", help="Results directory of `stressgan stress`.")],
    out: Annotated[Path, typer.Option("--out", help="Report directory (report.html, .pdf, .xlsx, summary.json).")],
    fidelity: Annotated[Optional[Path], typer.Option(help="fidelity.json of `stressgan evaluate` (or its "
                                                           "directory).")] = None,
    limits: Annotated[Optional[Path], typer.Option(help="Limits YAML (ES 99, VaR 99, bad debt, P(liq.), IM "
                                                         "coverage; per book overrides).")] = None,
    previous: Annotated[Optional[Path], typer.Option(help="An earlier report's directory or summary.json, for "
                                                           "'changes since the last run'.")] = None,
    quiet: QuietOpt = False,
) -> None:
    """Committee report of stress results: HTML (self-contained), PDF, XLSX and summary.json. Exit 0 even with
    limit breaches (they are in the report; `nightly` exits 1 on them)."""
    from scenarios.limits import Limits
    from scenarios.report import build_report

    lim = Limits.load(limits) if limits is not None else None
    s = build_report(results, out, fidelity=fidelity, limits=lim, previous=previous)
    if not quiet:
        n = len(s["breaches"])
        typer.echo(f"{len(s['scope']['portfolios'])} books x {len(s['scope']['packs'])} packs x "
                   f"{len(s['scope']['margin_models'])} margin models; "
                   + (f"{n} limit breach(es)" if n else ("no limit breached" if lim is not None
                                                         else "no limits configured")))
        typer.echo(f"report: {out / 'report.html'} (also report.pdf, report.xlsx, summary.json)")


@app.command("nightly")
@guarded
def nightly_cmd(
    config: Annotated[Path, typer.Option("--config", help="Nightly YAML config.")],
    date: Annotated[Optional[str], typer.Option("--date", help="Run date YYYY-MM-DD (default: today, UTC).")] = None,
    quiet: QuietOpt = False,
) -> None:
    """Everything, into ROOT/DATE/: idempotent, resumable; exit 0 ok, 1 limits breached, 2 bad input, 3 failure."""
    from datetime import date as Date

    from scenarios.nightly import run_nightly

    try:
        run_date = Date.fromisoformat(date) if date else None
    except ValueError:
        raise InputError(f"--date must be YYYY-MM-DD, got {date!r}") from None
    raise typer.Exit(run_nightly(config, run_date, quiet=quiet))


@app.command("demo")
@guarded
def demo_cmd(
    out: Annotated[Path, typer.Option("--out", help="Directory for the demo run.")] = Path("demo-out"),
    paths: Annotated[int, typer.Option(help="Paths per scenario pack.")] = 10000,
    quiet: QuietOpt = False,
) -> None:
    """End to end on the bundled data with the shipped model: packs, stress, fidelity, report."""
    from scenarios.demo import run_demo

    code, report = run_demo(out, paths=paths, quiet=quiet)
    typer.echo(f"report: {report}")
    raise typer.Exit(0)


# ------------------------------------------------------------------------------------------------ packs


@pack_app.command("verify")
@guarded
def pack_verify(directory: Annotated[list[Path], typer.Argument(help="Pack directories.")],
                quiet: QuietOpt = False) -> None:
    """Check sizes, checksums and row layout of packs; exit 2 naming the first problem."""
    from scenarios.pack import iter_chunks, read_manifest

    for d in directory:
        m = read_manifest(d, verify=True)
        n = sum(len(c[0]) for _, c in iter_chunks(d, manifest=m))
        if not quiet:
            typer.echo(f"ok: {d} ({m.source}, {m.regime}, {n} paths x {m.horizon} steps, "
                       f"{', '.join(m.assets)}, pack {m.pack_id})")


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else EXIT_INPUT)
        sys.exit(code)


if __name__ == "__main__":
    main()

"""ScenarioPack: round trips, byte-identical writes, atomicity, verified reads, third-party readers."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scenarios.errors import InputError
from scenarios.pack import PackWriter, ScenarioPack, iter_chunks, read_manifest

META = dict(source="garch", regime="flash_crash", severity=0.5, seed=7, frequency="1h", step_hours=1.0,
            data_fingerprint="abc")


def make_pack(n=100, h=24, assets=("BTC", "ETH"), seed=0) -> ScenarioPack:
    rng = np.random.default_rng(seed)
    a = len(assets)
    return ScenarioPack.from_arrays(
        rng.normal(0, 0.01, (n, h, a)), rng.normal(0, 0.5, (n, h, a)), np.full((n, a), 0.01),
        context=np.arange(n) % 3, assets=list(assets), start_prices={x: 100.0 for x in assets},
        ref_volume_usd={x: 1e6 for x in assets}, contexts=["2019-01-01T00:00:00Z"] * 3, **META)


def file_hashes(d: Path) -> dict[str, str]:
    return {k: v["sha256"] for k, v in json.loads((d / "manifest.json").read_text())["files"].items()}


def test_write_then_read_returns_the_same_arrays(tmp_path):
    p = make_pack()
    q = ScenarioPack.read(p.write(tmp_path / "pk", chunk_paths=32))
    assert all(np.array_equal(getattr(p, f), getattr(q, f)) for f in ("returns", "liquidity", "sigma_ref", "context"))


def test_same_inputs_give_byte_identical_data_files(tmp_path):
    make_pack(seed=3).write(tmp_path / "a")
    make_pack(seed=3).write(tmp_path / "b")
    assert file_hashes(tmp_path / "a") == file_hashes(tmp_path / "b")


def test_manifest_records_schema_source_and_checksums(tmp_path):
    m = read_manifest(make_pack().write(tmp_path / "pk"))
    assert (m.schema_version, m.source, m.n_paths, m.horizon, sorted(m.files)) == (
        1, "garch", 100, 24, ["paths-00000.parquet", "paths.parquet"])


def test_pack_splits_into_several_files_and_reads_back_in_order(tmp_path):
    p = make_pack(n=50)
    with PackWriter(tmp_path / "pk", p.manifest, paths_per_file=16) as w:
        for s in range(0, 50, 7):
            w.write(p.returns[s:s + 7], p.liquidity[s:s + 7], p.sigma_ref[s:s + 7], p.context[s:s + 7])
    q = ScenarioPack.read(tmp_path / "pk")
    assert len(q.manifest.files) == 5 and np.array_equal(q.returns, p.returns)


def test_readable_by_pandas_with_documented_columns(tmp_path):
    d = make_pack().write(tmp_path / "pk")
    df = pd.read_parquet(d / "paths-00000.parquet")
    assert list(df.columns) == ["path", "step", "BTC_return", "BTC_liquidity", "ETH_return", "ETH_liquidity"]


def test_readable_by_duckdb(tmp_path):
    duckdb = pytest.importorskip("duckdb")
    p = make_pack()
    d = p.write(tmp_path / "pk")
    got = duckdb.sql(f"select sum(BTC_return) from '{d}/paths-*.parquet' where path = 5").fetchall()[0][0]
    assert np.isclose(got, p.returns[5, :, 0].sum(), atol=1e-6)


def test_flipped_byte_is_refused_as_corrupt(tmp_path):
    d = make_pack().write(tmp_path / "pk")
    f = d / "paths-00000.parquet"
    raw = bytearray(f.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    f.write_bytes(bytes(raw))
    with pytest.raises(InputError, match="checksum does not match"):
        ScenarioPack.read(d)


def test_truncated_file_is_refused(tmp_path):
    d = make_pack().write(tmp_path / "pk")
    f = d / "paths-00000.parquet"
    f.write_bytes(f.read_bytes()[:-100])
    with pytest.raises(InputError, match="truncated or edited"):
        ScenarioPack.read(d)


def test_edited_manifest_path_count_is_refused(tmp_path):
    d = make_pack().write(tmp_path / "pk")
    m = json.loads((d / "manifest.json").read_text())
    m["n_paths"] = 99
    (d / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(InputError, match="data files hold 2400 rows; n_paths x horizon = 2376"):
        ScenarioPack.read(d)


def test_data_file_from_another_pack_is_refused(tmp_path):
    a = make_pack(n=100, seed=1).write(tmp_path / "a")
    b = make_pack(n=100, seed=2).write(tmp_path / "b")
    shutil.copy(b / "paths-00000.parquet", a / "paths-00000.parquet")  # a valid file, but not this pack's
    with pytest.raises(InputError, match="paths-00000.parquet (is .* bytes|checksum)"):
        ScenarioPack.read(a)


def test_directory_without_manifest_is_refused(tmp_path):
    (tmp_path / "half").mkdir()
    with pytest.raises(InputError, match="no manifest.json"):
        ScenarioPack.read(tmp_path / "half")


def test_failed_write_leaves_nothing_under_the_final_name(tmp_path):
    p = make_pack()
    with pytest.raises(RuntimeError):
        with PackWriter(tmp_path / "pk", p.manifest) as w:
            w.write(p.returns[:10], p.liquidity[:10], p.sigma_ref[:10], p.context[:10])
            raise RuntimeError("killed")
    assert list(tmp_path.iterdir()) == []


def test_short_write_is_refused_and_cleaned_up(tmp_path):
    p = make_pack()
    with pytest.raises(ValueError, match="wrote 10 paths, manifest says 100"):
        with PackWriter(tmp_path / "pk", p.manifest) as w:
            w.write(p.returns[:10], p.liquidity[:10], p.sigma_ref[:10], p.context[:10])
    assert list(tmp_path.iterdir()) == []


def test_existing_pack_is_kept_unless_overwrite(tmp_path):
    d = make_pack(seed=1).write(tmp_path / "pk")
    with pytest.raises(InputError, match="already exists"):
        make_pack(seed=2).write(d)
    make_pack(seed=2).write(d, overwrite=True)
    assert np.array_equal(ScenarioPack.read(d).returns, make_pack(seed=2).returns)


def test_nan_paths_are_refused_before_writing():
    with pytest.raises(ValueError, match="NaN"):
        ScenarioPack.from_arrays(np.full((2, 3, 1), np.nan), np.zeros((2, 3, 1)), np.ones((2, 1)),
                                 assets=["BTC"], start_prices={"BTC": 1.0}, ref_volume_usd={"BTC": 1.0}, **META)


def test_iter_chunks_yields_one_row_group_at_a_time(tmp_path):
    d = make_pack(n=100).write(tmp_path / "pk", chunk_paths=25)
    sizes = [len(c[0]) for _, c in iter_chunks(d)]
    assert sizes == [25, 25, 25, 25]


def test_prices_start_at_the_manifest_start_prices(tmp_path):
    p = make_pack()
    prices = p.prices()
    assert np.allclose(prices[:, 0], 100.0) and np.allclose(prices[:, -1], 100 * np.exp(p.returns.sum(axis=1)))


@settings(max_examples=15, deadline=None)
@given(n=st.integers(1, 40), h=st.integers(1, 30), a=st.integers(1, 3), chunk=st.integers(1, 50))
def test_round_trip_for_any_shape_and_chunking(tmp_path_factory, n, h, a, chunk):
    assets = tuple(f"A{i}" for i in range(a))
    p = make_pack(n=n, h=h, assets=assets)
    d = p.write(tmp_path_factory.mktemp("pk") / "pk", chunk_paths=chunk)
    assert np.array_equal(ScenarioPack.read(d).returns, p.returns)

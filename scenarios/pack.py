"""ScenarioPack: many joint paths of returns and liquidity, on disk as Parquet (zstd) plus ``manifest.json``.

Layout of a pack directory (readable by pandas, pyarrow, polars or duckdb without stressgan)::

    manifest.json          what the pack is (see :class:`Manifest`), with sha256 and size of every data file
    paths-00000.parquet    one row per (path, step): path int32, step int16, then per asset
    paths-00001.parquet      ``<ASSET>_return`` float32 (log return of the step) and
    ...                      ``<ASSET>_liquidity`` float32 (log volume ratio of the step);
                             rows sorted by path then step; one row group per generation chunk
    paths.parquet          one row per path: path int32, context int32 (index into manifest ``contexts``),
                             ``<ASSET>_sigma_ref`` float32 (reference volatility per step the path starts from)

Writes are atomic: everything goes into a temporary sibling directory that is renamed into place once the
manifest (written last) is on disk, so a killed write leaves no half pack under the final name. Reads verify
sizes and checksums and the row layout and refuse a corrupt, truncated or edited pack. Packs are written and
read in chunks, so memory stays bounded for 10M-path packs. The data files hold no timestamps or versions of
their own: the same inputs give byte-identical data files (only ``created_at`` in the manifest differs).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator, Literal

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from scenarios import __version__
from scenarios.errors import InputError
from scenarios.io import sha256_file

SCHEMA_VERSION = 1
FORMAT = "stressgan.scenario-pack"
PATHS_PER_FILE = 1 << 20
Source = Literal["gan", "garch", "gjr", "fhs", "historical"]


class FileEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sha256: str
    bytes: int
    rows: int


class Manifest(BaseModel):
    """``manifest.json`` of a pack. Prices in USD; ``ref_volume_usd`` is the USD volume per step at
    liquidity 0 (the liquidity level a path's log volume ratios are relative to)."""

    model_config = ConfigDict(extra="forbid")
    format: Literal["stressgan.scenario-pack"] = FORMAT
    schema_version: int = SCHEMA_VERSION
    pack_id: str = ""
    source: Source
    regime: str
    severity: float | None = None
    severity_score: float | None = None
    seed: int
    n_paths: int = Field(gt=0)
    horizon: int = Field(gt=0)
    assets: list[str]
    frequency: str
    step_hours: float = Field(gt=0)
    start_prices: dict[str, float]
    ref_volume_usd: dict[str, float]
    contexts: list[str] = Field(default_factory=list)
    model_fingerprint: str | None = None
    data_fingerprint: str
    data: dict[str, Any] = Field(default_factory=dict)
    generator: dict[str, Any] = Field(default_factory=dict)
    rules: dict[str, Any] = Field(default_factory=dict)
    created_at: str = ""
    stressgan_version: str = __version__
    files: dict[str, FileEntry] = Field(default_factory=dict)


@dataclass
class ScenarioPack:
    """An in-memory pack.

    Attributes
    ----------
    returns : float32[n_paths, horizon, n_assets]
        Log returns per step.
    liquidity : float32[n_paths, horizon, n_assets]
        Log volume ratio per step (0 = the reference volume ``ref_volume_usd``).
    sigma_ref : float32[n_paths, n_assets]
        Reference volatility per step at each path's start (what the regime labeller scales drops by).
    context : int32[n_paths]
        Index into ``manifest.contexts`` of the real window each path was conditioned on.
    manifest : Manifest
    """

    returns: np.ndarray
    liquidity: np.ndarray
    sigma_ref: np.ndarray
    context: np.ndarray
    manifest: Manifest

    @classmethod
    def from_arrays(cls, returns: np.ndarray, liquidity: np.ndarray, sigma_ref: np.ndarray, *,
                    context: np.ndarray | None = None, **manifest: Any) -> "ScenarioPack":
        """Build a pack from arrays; ``manifest`` keywords are :class:`Manifest` fields (``n_paths`` and
        ``horizon`` are taken from the arrays)."""
        returns = np.ascontiguousarray(returns, dtype=np.float32)
        liquidity = np.ascontiguousarray(liquidity, dtype=np.float32)
        n, h, a = returns.shape
        context = np.zeros(n, np.int32) if context is None else np.asarray(context, np.int32)
        m = _manifest(manifest | {"n_paths": n, "horizon": h})
        _check_chunk(m, returns, liquidity, np.asarray(sigma_ref, np.float32), context)
        return cls(returns, liquidity, np.asarray(sigma_ref, np.float32), context, m)

    @property
    def assets(self) -> tuple[str, ...]:
        return tuple(self.manifest.assets)

    def write(self, directory: str | Path, *, overwrite: bool = False, chunk_paths: int = 65536) -> Path:
        """Write atomically to ``directory``; returns its path."""
        with PackWriter(directory, self.manifest, overwrite=overwrite) as w:
            for s in range(0, self.manifest.n_paths, chunk_paths):
                e = s + chunk_paths
                w.write(self.returns[s:e], self.liquidity[s:e], self.sigma_ref[s:e], self.context[s:e])
        return Path(directory)

    @classmethod
    def read(cls, directory: str | Path, *, verify: bool = True) -> "ScenarioPack":
        """Read and (by default) verify a whole pack into memory."""
        m = read_manifest(directory, verify=verify)
        n, h, a = m.n_paths, m.horizon, len(m.assets)
        r = np.empty((n, h, a), np.float32)
        q = np.empty((n, h, a), np.float32)
        s = np.empty((n, a), np.float32)
        c = np.empty(n, np.int32)
        for lo, (rc, qc, sc, cc) in iter_chunks(directory, manifest=m):
            hi = lo + len(rc)
            r[lo:hi], q[lo:hi], s[lo:hi], c[lo:hi] = rc, qc, sc, cc
        return cls(r, q, s, c, m)

    def prices(self) -> np.ndarray:
        """float64[n_paths, horizon + 1, n_assets]: USD prices from the manifest's start prices."""
        p0 = np.array([self.manifest.start_prices[x] for x in self.assets])
        out = np.empty((self.returns.shape[0], self.returns.shape[1] + 1, len(p0)))
        out[:, 0] = p0
        out[:, 1:] = np.exp(np.cumsum(self.returns, axis=1, dtype=np.float64)) * p0
        return out


def _manifest(fields: dict[str, Any]) -> Manifest:
    try:
        return Manifest(**fields)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise InputError(f"{'.'.join(map(str, err['loc']))}: {err['msg']}", field="manifest") from None


def _check_chunk(m: Manifest, r: np.ndarray, q: np.ndarray, s: np.ndarray, c: np.ndarray) -> None:
    a = len(m.assets)
    if r.ndim != 3 or r.shape[1:] != (m.horizon, a):
        raise ValueError(f"returns chunk has shape {r.shape}; expected [n, {m.horizon}, {a}]")
    if q.shape != r.shape:
        raise ValueError(f"liquidity chunk shape {q.shape} differs from returns {r.shape}")
    if s.shape != (r.shape[0], a):
        raise ValueError(f"sigma_ref chunk shape {s.shape}; expected ({r.shape[0]}, {a})")
    if c.shape != (r.shape[0],):
        raise ValueError(f"context chunk shape {c.shape}; expected ({r.shape[0]},)")
    if not (np.isfinite(r).all() and np.isfinite(q).all() and np.isfinite(s).all()):
        raise ValueError("paths contain NaN or infinite values")


def _schema(assets: list[str]) -> pa.Schema:
    cols = [pa.field("path", pa.int32()), pa.field("step", pa.int16())]
    for x in assets:
        cols += [pa.field(f"{x}_return", pa.float32()), pa.field(f"{x}_liquidity", pa.float32())]
    return pa.schema(cols)


def _path_schema(assets: list[str]) -> pa.Schema:
    return pa.schema([pa.field("path", pa.int32()), pa.field("context", pa.int32())]
                     + [pa.field(f"{x}_sigma_ref", pa.float32()) for x in assets])


class PackWriter:
    """Chunked, atomic pack writer (a context manager).

    ``write(returns, liquidity, sigma_ref, context)`` appends a chunk of paths (shapes as in
    :class:`ScenarioPack`); leaving the ``with`` block without an error publishes the pack, with an error
    removes the temporary directory. ``manifest.n_paths`` must equal the paths written.
    """

    def __init__(self, directory: str | Path, manifest: Manifest, *, overwrite: bool = False,
                 paths_per_file: int = PATHS_PER_FILE) -> None:
        self.final = Path(directory)
        if self.final.exists() and not overwrite:
            raise InputError("already exists; choose another --out or pass --overwrite", file=self.final)
        self.manifest = manifest.model_copy(deep=True)
        self.paths_per_file = paths_per_file
        self.tmp = self.final.parent / f".{self.final.name}.tmp-{uuid.uuid4().hex[:8]}"
        self._writer: pq.ParquetWriter | None = None
        self._paths_writer: pq.ParquetWriter | None = None
        self._file_index = -1
        self._in_file = 0
        self._written = 0
        self._steps = np.arange(manifest.horizon, dtype=np.int16)

    def __enter__(self) -> "PackWriter":
        self.final.parent.mkdir(parents=True, exist_ok=True)
        self.tmp.mkdir()
        self._paths_writer = pq.ParquetWriter(self.tmp / "paths.parquet", _path_schema(self.manifest.assets),
                                              compression="zstd", write_statistics=True)
        return self

    def write(self, returns: np.ndarray, liquidity: np.ndarray, sigma_ref: np.ndarray, context: np.ndarray
              ) -> None:
        r = np.ascontiguousarray(returns, np.float32)
        q = np.ascontiguousarray(liquidity, np.float32)
        s = np.ascontiguousarray(sigma_ref, np.float32)
        c = np.ascontiguousarray(context, np.int32)
        _check_chunk(self.manifest, r, q, s, c)
        if self._written + len(r) > self.manifest.n_paths:
            raise ValueError(f"more paths written than the manifest's n_paths={self.manifest.n_paths}")
        lo = 0
        while lo < len(r):  # split a chunk that straddles a file boundary
            if self._writer is None or self._in_file >= self.paths_per_file:
                self._next_file()
            take = min(len(r) - lo, self.paths_per_file - self._in_file)
            self._write_rows(r[lo:lo + take], q[lo:lo + take])
            lo += take
        first = self._written - len(r)
        cols = [pa.array(np.arange(first, first + len(r), dtype=np.int32)), pa.array(c)]
        cols += [pa.array(s[:, j]) for j in range(s.shape[1])]
        table = pa.Table.from_arrays(cols, schema=_path_schema(self.manifest.assets))
        self._paths_writer.write_table(table, row_group_size=table.num_rows)

    def _write_rows(self, r: np.ndarray, q: np.ndarray) -> None:
        n, h, a = r.shape
        path = np.repeat(np.arange(self._written, self._written + n, dtype=np.int32), h)
        cols = [pa.array(path), pa.array(np.tile(self._steps, n))]
        for j in range(a):
            cols += [pa.array(r[:, :, j].reshape(-1)), pa.array(q[:, :, j].reshape(-1))]
        table = pa.Table.from_arrays(cols, schema=_schema(self.manifest.assets))
        self._writer.write_table(table, row_group_size=table.num_rows)  # one row group per chunk
        self._written += n
        self._in_file += n

    def _next_file(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._file_index += 1
        self._in_file = 0
        name = f"paths-{self._file_index:05d}.parquet"
        self._writer = pq.ParquetWriter(self.tmp / name, _schema(self.manifest.assets), compression="zstd",
                                        write_statistics=["path"])

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            for w in (self._writer, self._paths_writer):
                if w is not None:
                    w.close()
            if exc_type is not None:
                return
            if self._written != self.manifest.n_paths:
                raise ValueError(f"wrote {self._written} paths, manifest says {self.manifest.n_paths}")
            self._publish()
        finally:
            if self.tmp.exists():
                shutil.rmtree(self.tmp, ignore_errors=True)

    def _publish(self) -> None:
        files = {}
        for p in sorted(self.tmp.glob("*.parquet")):
            rows = pq.ParquetFile(p).metadata.num_rows
            files[p.name] = FileEntry(sha256=sha256_file(p), bytes=p.stat().st_size, rows=rows)
        m = self.manifest
        m.files = files
        m.pack_id = hashlib.sha256("".join(f.sha256 for f in files.values()).encode()).hexdigest()[:16]
        m.created_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
        _write_json_durably(self.tmp / "manifest.json", m.model_dump(mode="json"))
        _fsync_dir(self.tmp)
        if self.final.exists():
            trash = self.final.parent / f".{self.final.name}.old-{uuid.uuid4().hex[:8]}"
            os.replace(self.final, trash)
            os.replace(self.tmp, self.final)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            os.replace(self.tmp, self.final)
        _fsync_dir(self.final.parent)


def write_pack_chunks(directory: str | Path, manifest: Manifest,
                      chunks: Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]], *,
                      overwrite: bool = False) -> Manifest:
    """Write a pack from an iterator of ``(returns, liquidity, sigma_ref, context)`` chunks; returns the
    final manifest."""
    with PackWriter(directory, manifest, overwrite=overwrite) as w:
        for chunk in chunks:
            w.write(*chunk)
    return read_manifest(directory, verify=False)


def read_manifest(directory: str | Path, *, verify: bool = True) -> Manifest:
    """The pack's manifest; with ``verify``, also check every listed file's size and sha256 and that the
    directory holds no unlisted data files."""
    d = Path(directory)
    mpath = d / "manifest.json"
    if not d.is_dir():
        raise InputError("is not a scenario pack directory", file=d)
    if not mpath.exists():
        raise InputError("no manifest.json: not a scenario pack, or its write did not finish", file=d)
    try:
        raw = json.loads(mpath.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"manifest.json is not valid JSON ({exc})", file=d) from None
    if isinstance(raw, dict) and raw.get("schema_version", SCHEMA_VERSION) > SCHEMA_VERSION:
        raise InputError(f"pack schema version {raw['schema_version']} is newer than this stressgan reads "
                         f"({SCHEMA_VERSION}); upgrade stressgan", file=mpath)
    try:
        m = Manifest(**raw)
    except (ValidationError, TypeError) as exc:
        msg = exc.errors()[0] if isinstance(exc, ValidationError) else {"loc": (), "msg": str(exc)}
        raise InputError(f"manifest field {'.'.join(map(str, msg['loc'])) or '?'}: {msg['msg']}",
                         file=mpath) from None
    data_files = [f for f in m.files if f.startswith("paths-")]
    if "paths.parquet" not in m.files or not data_files:
        raise InputError("manifest lists no data files", file=mpath)
    if sum(m.files[f].rows for f in data_files) != m.n_paths * m.horizon:
        raise InputError(f"data files hold {sum(m.files[f].rows for f in data_files)} rows; "
                         f"n_paths x horizon = {m.n_paths * m.horizon}", file=mpath)
    if verify:
        for name, entry in m.files.items():
            p = d / name
            if not p.exists():
                raise InputError(f"data file {name} is missing", file=d)
            if p.stat().st_size != entry.bytes:
                raise InputError(f"{name} is {p.stat().st_size} bytes, manifest says {entry.bytes} "
                                 "(truncated or edited)", file=d)
            if sha256_file(p) != entry.sha256:
                raise InputError(f"{name} checksum does not match the manifest (corrupt or edited)", file=d)
        extra = sorted(p.name for p in d.glob("*.parquet") if p.name not in m.files)
        if extra:
            raise InputError(f"unlisted data file {extra[0]} in the pack", file=d)
    return m


def iter_chunks(directory: str | Path, *, manifest: Manifest | None = None, verify: bool = True
                ) -> Iterator[tuple[int, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]]:
    """Yield ``(first_path, (returns, liquidity, sigma_ref, context))`` per stored row group, in path order.

    Memory is one row group (one generation chunk) at a time. Row order is checked as it is read.
    """
    d = Path(directory)
    m = manifest or read_manifest(d, verify=verify)
    h, assets = m.horizon, m.assets
    meta = pq.read_table(d / "paths.parquet")
    _expect_columns(meta.schema, _path_schema(assets), d / "paths.parquet")
    if meta.num_rows != m.n_paths:
        raise InputError(f"paths.parquet has {meta.num_rows} rows, manifest says {m.n_paths} paths", file=d)
    sigma = np.stack([meta.column(f"{x}_sigma_ref").to_numpy() for x in assets], axis=1).astype(np.float32)
    context = meta.column("context").to_numpy().astype(np.int32)
    next_path = 0
    for name in sorted(f for f in m.files if f.startswith("paths-")):
        pf = pq.ParquetFile(d / name)
        _expect_columns(pf.schema_arrow, _schema(assets), d / name)
        for g in range(pf.num_row_groups):
            t = pf.read_row_group(g)
            n = t.num_rows // h
            path = t.column("path").to_numpy()
            if t.num_rows % h or path[0] != next_path or path[-1] != next_path + n - 1:
                raise InputError(f"{name} row group {g} is out of order (paths {path[0]}..{path[-1]}, "
                                 f"expected from {next_path})", file=d)
            r = np.stack([t.column(f"{x}_return").to_numpy() for x in assets], axis=-1).reshape(n, h, -1)
            q = np.stack([t.column(f"{x}_liquidity").to_numpy() for x in assets], axis=-1).reshape(n, h, -1)
            yield next_path, (r, q, sigma[next_path:next_path + n], context[next_path:next_path + n])
            next_path += n
    if next_path != m.n_paths:
        raise InputError(f"pack holds {next_path} paths, manifest says {m.n_paths}", file=d)


def _expect_columns(got: pa.Schema, want: pa.Schema, file: Path) -> None:
    if not got.equals(want, check_metadata=False):
        raise InputError(f"columns {got.names} do not match the pack schema {want.names}", file=file)


def _write_json_durably(path: Path, obj: Any) -> None:
    with open(path, "w") as fh:
        json.dump(obj, fh, indent=2, sort_keys=False)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

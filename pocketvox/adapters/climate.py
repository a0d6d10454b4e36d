"""Climate adapter: 3D atmosphere grids on pressure levels ⇄ column quantities.

Task: precipitable water (PW, kg m-2) from temperature, geopotential height and wind on pressure
levels, with no humidity in the input. The network follows the physics:

1. horizontal 2D convolutions shared by all levels (translation equivariance on the map), *valid*
   convolutions after one padding of the input (replicate; circular along a periodic longitude), so
   every output column depends on a bounded neighbourhood and tiled inference is exact;
2. the vertical axis is an ordered sequence: a bidirectional GRU runs over the levels of each column;
3. it predicts a per-level relative-saturation fraction r ∈ (0, 1) (sigmoid), and specific humidity
   q = r · q_sat(T, p) ≥ 0, q_sat from Bolton (1980);
4. a NON-trainable physics layer integrates PW = Σ q Δp / g, with layer edges clipped at the surface
   pressure, so the output is a column integral by construction.

Arrays: fields are ``(L, Y, X)`` (levels surface→top, rows, columns); the core sees inputs
``(C, L, Y, X)``. Pressures in Pa inside the computation (levels are stored in hPa as in the files),
temperatures in K, heights in gpm, winds in m s-1.

Needs the ``climate`` extra (xarray + netCDF4/h5netcdf, cfgrib for GRIB2); torch for the network.
All imported inside functions.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pocketvox.errors import InputFileError, PocketvoxError

#: Standard gravity, m s-2 (CODATA / WMO).
G = 9.80665
#: Ratio of the gas constants of dry air and water vapour, Rd/Rv (dimensionless).
EPSILON = 0.622
#: Gas constant of dry air, J kg-1 K-1 (WMO; Wallace & Hobbs 2006, Atmospheric Science, ch. 3).
R_DRY = 287.04
#: Virtual-temperature coefficient Rv/Rd - 1: Tv = T (1 + 0.608 q) (Wallace & Hobbs 2006, eq. 3.59).
TV_COEF = 0.608


@dataclass(frozen=True)
class ColumnPhysics:
    """Constants of the column integral (sources in the comments).

    bottom_edge_hpa : lower edge of the lowest layer before clipping at the surface (hPa); with
        clipping, the lowest above-ground layer always ends at the surface pressure
    es0_pa, es_a, es_b_k : Bolton (1980) saturation vapour pressure over water,
        es = es0 · exp(a (T - 273.15) / (T - b)), es0 = 611.2 Pa, a = 17.67, b = 29.65 K
    """

    bottom_edge_hpa: float = 1100.0
    es0_pa: float = 611.2
    es_a: float = 17.67
    es_b_k: float = 29.65


PHYSICS = ColumnPhysics()

INPUT_VARIABLES = ("t", "gh", "u")  # the 2018 NAM file has no v; all three exist in every source


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class ClimateFields:
    """One time step of a pressure-level atmosphere.

    fields : name → (L, Y, X) float32 (names from :data:`INPUT_VARIABLES`, NaN-free)
    levels_hpa : (L,) pressure levels, surface to top
    sp_pa : (Y, X) surface pressure, Pa
    pwat : (Y, X) kg m-2 target (the file's ``pwat``, or Σ q Δp / g where only ``q`` is given), or None
    lat, lon : (Y, X) degrees
    periodic_x : True on a global regular grid (columns wrap around in longitude)
    path : source file
    """

    fields: dict = field(repr=False)
    levels_hpa: np.ndarray = field(repr=False)
    sp_pa: np.ndarray = field(repr=False)
    pwat: np.ndarray | None = field(repr=False)
    lat: np.ndarray = field(repr=False)
    lon: np.ndarray = field(repr=False)
    periodic_x: bool = False
    path: str = ""

    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(next(iter(self.fields.values())).shape)


def _fill_below_ground(a: np.ndarray) -> np.ndarray:
    """Replace NaN (levels under the surface) by the nearest defined level above, column by column."""
    a = a.copy()
    for lev in range(a.shape[0] - 2, -1, -1):  # levels are few (≤ 40): a loop over them is cheap
        bad = np.isnan(a[lev])
        a[lev][bad] = a[lev + 1][bad]
    return np.nan_to_num(a, nan=0.0)


def _periodic(lon1d: np.ndarray) -> bool:
    if lon1d.ndim != 1 or lon1d.size < 3:
        return False
    step = np.diff(lon1d)
    return bool(np.allclose(step, step[0]) and abs(abs(step[0]) * lon1d.size - 360.0) < 1e-3)


def read_climate(path: str | os.PathLike, time_index: int = 0) -> ClimateFields:
    """Read NetCDF (``.nc``) or GRIB2 (``.grb2``/``.grib2``) into :class:`ClimateFields`.

    Variable names accepted: t; gh or z (geopotential height, gpm); u; sp or ps (Pa, or hPa if the
    values are below 2000); pwat, else PW formed from q. For files with a time axis, ``time_index``
    picks the step.
    """
    path = Path(path)
    if not path.exists():
        raise InputFileError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise InputFileError(f"{path}: file is empty")
    suffix = path.suffix.lower()
    if suffix in (".grb2", ".grib2", ".grb", ".grib"):
        return _read_grib(path)
    if suffix in (".nc", ".nc4", ".netcdf"):
        return _read_netcdf(path, time_index)
    raise InputFileError(f"{path}: unknown climate format (expected .nc or .grib2)")


def _read_netcdf(path: Path, time_index: int) -> ClimateFields:
    import xarray as xr

    try:
        ds = xr.open_dataset(path)
        ds.load()
    except Exception as e:
        raise InputFileError(f"{path}: cannot read as NetCDF ({type(e).__name__}: {e})") from None
    with ds:
        if "time" in ds.dims:
            if not -ds.sizes["time"] <= time_index < ds.sizes["time"]:
                raise PocketvoxError(f"{path}: time index {time_index} out of range ({ds.sizes['time']} steps)")
            ds = ds.isel(time=time_index)
        names = {"t": "t", "gh": "gh" if "gh" in ds else "z", "u": "u"}
        missing = [v for v in names.values() if v not in ds]
        sp_name = "sp" if "sp" in ds else ("ps" if "ps" in ds else None)
        if missing or sp_name is None:
            raise InputFileError(f"{path}: missing variables {missing + ([] if sp_name else ['sp'])}")
        lev_dim = ds[names["t"]].dims[0]
        levels = np.asarray(ds[lev_dim].values, dtype=np.float64)
        fields = {k: _fill_below_ground(np.asarray(ds[v].values, dtype=np.float32)) for k, v in names.items()}
        sp = np.asarray(ds[sp_name].values, dtype=np.float64)
        if np.nanmax(sp) < 2000:  # hPa (GrADS) → Pa
            sp = sp * 100.0
        if "pwat" in ds:
            pwat = np.asarray(ds["pwat"].values, dtype=np.float32)
        elif "q" in ds:
            q = np.nan_to_num(np.asarray(ds["q"].values, dtype=np.float64), nan=0.0)
            qlev = np.asarray(ds[ds["q"].dims[0]].values, dtype=np.float64)
            pwat = column_integral_np(q, layer_thickness(qlev, sp)).astype(np.float32)
        else:
            pwat = None
        if "lat" in ds and ds["lat"].ndim == 2:
            lat, lon = np.asarray(ds["lat"].values), np.asarray(ds["lon"].values)
            periodic = False
        else:
            lat1, lon1 = np.asarray(ds["lat"].values), np.asarray(ds["lon"].values)
            periodic = _periodic(lon1)
            lon, lat = np.meshgrid(lon1, lat1)
    return ClimateFields(fields, levels, sp.astype(np.float32), pwat, lat, lon, periodic, str(path))


def _read_grib(path: Path) -> ClimateFields:
    import xarray as xr

    def open_(**keys):
        return xr.open_dataset(path, engine="cfgrib",
                               backend_kwargs={"filter_by_keys": keys, "indexpath": ""})

    try:
        fields = {}
        for v in INPUT_VARIABLES:
            da = open_(typeOfLevel="isobaricInhPa", shortName=v)[v]
            fields[v] = np.asarray(da.values, dtype=np.float32)
            levels = np.asarray(da["isobaricInhPa"].values, dtype=np.float64)
        sfc = open_(typeOfLevel="surface", shortName="sp")
        sp = np.asarray(sfc["sp"].values, dtype=np.float32)
        lat, lon = np.asarray(sfc["latitude"].values), np.asarray(sfc["longitude"].values)
        try:
            pwat = np.asarray(open_(shortName="pwat")["pwat"].values, dtype=np.float32)
        except Exception:
            pwat = None
    except KeyError as e:
        raise InputFileError(f"{path}: GRIB has no {e} field") from None
    except Exception as e:
        raise InputFileError(f"{path}: cannot read as GRIB2 ({type(e).__name__}: {e})") from None
    if levels[0] < levels[-1]:  # store surface → top
        fields = {k: v[::-1].copy() for k, v in fields.items()}
        levels = levels[::-1].copy()
    lon = np.where(lon > 180, lon - 360, lon)
    periodic = lat.ndim == 2 and _periodic(lon[0]) and np.allclose(lon, lon[0])
    return ClimateFields(fields, levels, sp, pwat, lat, lon, bool(periodic), str(path))


# --------------------------------------------------------------------------- physics (NumPy reference)


def layer_edges_pa(levels_hpa, physics: ColumnPhysics = PHYSICS) -> np.ndarray:
    """(L+1,) layer edges in Pa for levels ordered surface → top: midway between levels, the bottom
    edge at ``physics.bottom_edge_hpa``, the top edge as far above the top level as half the last gap."""
    lev = np.asarray(levels_hpa, dtype=np.float64)
    if lev.ndim != 1 or lev.size < 2 or np.any(np.diff(lev) >= 0):
        raise PocketvoxError(f"pressure levels must decrease from the surface up, got {lev.tolist()}")
    top = lev[-1] - 0.5 * (lev[-2] - lev[-1])
    return np.concatenate([[physics.bottom_edge_hpa], 0.5 * (lev[1:] + lev[:-1]), [max(top, 0.0)]]) * 100.0


def layer_thickness(levels_hpa, sp_pa, physics: ColumnPhysics = PHYSICS) -> np.ndarray:
    """(L, Y, X) Δp in Pa per level, edges clipped at the surface (under-ground layers get 0)."""
    pe = layer_edges_pa(levels_hpa, physics)[:, None, None]
    sp = np.asarray(sp_pa, dtype=np.float64)[None]
    return np.clip(np.minimum(pe[:-1], sp) - np.minimum(pe[1:], sp), 0.0, None)


def saturation_q(t_k, p_pa, physics: ColumnPhysics = PHYSICS):
    """Saturation specific humidity (kg/kg) over water at T (K), p (Pa); NumPy or torch arrays.

    es from Bolton (1980); q = ε es / (p - (1 - ε) es). es is capped at p/2 so hot, low-pressure
    points (possible in extrapolated under-ground levels) stay finite.
    """
    try:
        import torch

        if isinstance(t_k, torch.Tensor):
            es = physics.es0_pa * torch.exp(physics.es_a * (t_k - 273.15) / (t_k - physics.es_b_k))
            es = torch.minimum(es, 0.5 * p_pa)
            return EPSILON * es / (p_pa - (1 - EPSILON) * es)
    except ImportError:  # pragma: no cover - NumPy path works without torch
        pass
    t_k = np.asarray(t_k, dtype=np.float64)
    es = physics.es0_pa * np.exp(physics.es_a * (t_k - 273.15) / (t_k - physics.es_b_k))
    es = np.minimum(es, 0.5 * p_pa)
    return EPSILON * es / (p_pa - (1 - EPSILON) * es)


def column_integral_np(q: np.ndarray, dp: np.ndarray) -> np.ndarray:
    """PW = Σ_levels q Δp / g (kg m-2); q (L, Y, X) kg/kg, dp (L, Y, X) Pa."""
    return (q * dp).sum(0) / G


# --------------------------------------------------------------------------- features


def hypsometric_humidity(t_k: np.ndarray, gh_gpm: np.ndarray, levels_hpa) -> np.ndarray:
    """Humidity implied by the thickness between levels (kg/kg), (L, Y, X).

    The hypsometric equation gives the layer's mean virtual temperature from its thickness,
    Tv = g Δz / (Rd ln(p_lower / p_upper)); moist air is lighter, so Tv exceeds the layer's mean T by
    0.608 q T. Hence q ≈ (Tv / T - 1) / 0.608 for the layer between level l and l+1, assigned to
    level l (the top level repeats the layer below it). Noisy (heights are stored to ~1 gpm) but
    independent of the season: this is how the network can see humidity without a humidity input.
    """
    lev = np.asarray(levels_hpa, dtype=np.float64)
    t = np.asarray(t_k, dtype=np.float64)
    dz = np.asarray(gh_gpm, dtype=np.float64)[1:] - np.asarray(gh_gpm, dtype=np.float64)[:-1]
    tv = dz * G / (R_DRY * np.log(lev[:-1] / lev[1:]))[:, None, None]
    q = (tv / (0.5 * (t[1:] + t[:-1])) - 1.0) / TV_COEF
    return np.concatenate([q, q[-1:]])


def column_features(f: ClimateFields) -> tuple[np.ndarray, np.ndarray]:
    """Model inputs and layer thicknesses.

    Returns x (C, L, Y, X) float32 with channels :data:`CHANNEL_NAMES` — t, gh, u (raw units), the
    hypsometric humidity estimate q_hyp (kg/kg, :func:`hypsometric_humidity`), its ratio to
    saturation rh_hyp (clipped to [-1, 2]), and log q_sat (last; the network standardises all but
    uses the raw last channel for q = r · q_sat) — and dp (L, Y, X) float32 in Pa.
    """
    p = f.levels_hpa[:, None, None] * 100.0
    t = f.fields["t"].astype(np.float64)
    qs = saturation_q(t, p)
    qh = hypsometric_humidity(t, f.fields["gh"], f.levels_hpa)
    x = np.stack([f.fields[v] for v in INPUT_VARIABLES]
                 + [qh.astype(np.float32), np.clip(qh / qs, -1, 2).astype(np.float32),
                    np.log(qs).astype(np.float32)])
    dp = layer_thickness(f.levels_hpa, f.sp_pa).astype(np.float32)
    return x.astype(np.float32), dp


CHANNEL_NAMES = (*INPUT_VARIABLES, "q_hyp", "rh_hyp", "log_qsat")


def linear_baseline_features(x: np.ndarray, dp: np.ndarray) -> np.ndarray:
    """(Y·X, F) table of column features for the linear baseline: every channel at every level, plus
    Δp per level (which carries the surface pressure), and q_sat·Δp/g per level (the saturated PW
    contribution), so the regression sees the same information as the network."""
    c, lev, ny, nx = x.shape
    qsat_dp = np.exp(x[-1]) * dp / G
    cols = np.concatenate([x.reshape(c * lev, -1), dp.reshape(lev, -1), qsat_dp.reshape(lev, -1)])
    return cols.T.astype(np.float64)


# --------------------------------------------------------------------------- network (torch)


def _torch():
    import torch
    from torch import nn

    return torch, nn


def build_pw_net(n_channels: int, n_levels: int, width: int = 16, hidden: int = 16, n_hconv: int = 3,
                 vertical: str = "conv", norm: str = "field", periodic_x: bool = False):
    """A PWNet (see the module docstring): ``forward(x, dp) -> PW``.

    n_channels, n_levels : C input channels (last one log q_sat) and L levels
    width : channels of the horizontal convolutions; hidden : channels of the vertical sequence model
    n_hconv : 3×3 valid convolutions, i.e. the horizontal receptive radius in columns
    vertical : 'conv' (1D convolutions along the level sequence, dilations 1, 2, 4: reach ±7 levels) or
        'gru' (bidirectional GRU over the levels; ~10× slower on CPU)
    norm : 'field' standardises each channel and level over the input field itself (the network sees
        anomalies, robust to a season shift; absolute temperature still enters through q_sat), 'train'
        uses training-set statistics
    periodic_x : wrap the x (longitude) axis instead of replicating its edges
    """
    torch, nn = _torch()
    if vertical not in ("conv", "gru"):
        raise PocketvoxError(f"vertical must be 'conv' or 'gru', got {vertical!r}")
    if norm not in ("field", "train"):
        raise PocketvoxError(f"norm must be 'field' or 'train', got {norm!r}")

    class ColumnIntegral(nn.Module):
        """Non-trainable PW = Σ q Δp / g (kg m-2). q, dp: (B, L, Y, X) → (B, Y, X)."""

        def forward(self, q, dp):
            return (q * dp).sum(1) / G

    class PWNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.periodic_x = periodic_x
            self.radius = n_hconv
            self.config = {"n_channels": n_channels, "n_levels": n_levels, "width": width, "hidden": hidden,
                           "n_hconv": n_hconv, "vertical": vertical, "norm": norm}
            # Training-set statistics per channel and level (norm='train'; set by fit_normalisation).
            self.register_buffer("mean", torch.zeros(n_channels, n_levels, 1, 1))
            self.register_buffer("std", torch.ones(n_channels, n_levels, 1, 1))
            layers, cin = [], n_channels + 1  # + the level position (the filters are shared by levels)
            for _ in range(n_hconv):
                layers += [nn.Conv2d(cin, width, 3), nn.GELU()]
                cin = width
            self.horizontal = nn.Sequential(*layers)
            if vertical == "gru":
                self.vertical = nn.GRU(width, hidden, batch_first=True, bidirectional=True)
                vout = 2 * hidden
            else:
                self.vertical = nn.Sequential(*[m for dil in (1, 2, 4) for m in (
                    nn.Conv1d(width if dil == 1 else hidden, hidden, 3, padding=dil, dilation=dil,
                              padding_mode="replicate"), nn.GELU())])
                vout = hidden
            self.head = nn.Linear(vout, 1)
            self.integral = ColumnIntegral()

        def fit_normalisation(self, x):
            """x: (B, C, L, Y, X) training inputs → per channel/level mean and std (norm='train')."""
            with torch.no_grad():
                self.mean.copy_(x.mean(dim=(0, 3, 4), keepdim=True)[0])
                self.std.copy_(x.std(dim=(0, 3, 4), keepdim=True)[0].clamp_min(1e-6))

        def features(self, x):
            """Raw (B, C, L, Y, X) → (B, C+1, L, Y, X): C standardised channels, then raw log q_sat.

            Field statistics come from the whole input, so tiles must be cut *after* this step."""
            if norm == "field":
                mu = x.mean(dim=(3, 4), keepdim=True)
                sd = x.std(dim=(3, 4), keepdim=True).clamp_min(1e-6)
            else:
                mu, sd = self.mean, self.std
            return torch.cat([(x - mu) / sd, x[:, -1:]], 1)

        def pad(self, z):
            """Pad (B, C, L, Y, X) by the receptive radius: replicate in y, circular or replicate in x."""
            r = self.radius
            if r == 0:
                return z
            b, c, lev, ny, nx = z.shape
            z2 = z.reshape(b, c * lev, ny, nx)
            if self.periodic_x:
                z2 = torch.cat([z2[..., -r:], z2, z2[..., :r]], dim=-1)
                z2 = torch.nn.functional.pad(z2, (0, 0, r, r), mode="replicate")
            else:
                z2 = torch.nn.functional.pad(z2, (r, r, r, r), mode="replicate")
            return z2.reshape(b, c, lev, ny + 2 * r, z2.shape[-1])

        def humidity_valid(self, zp):
            """zp: padded features (B, C+1, L, Y+2r, X+2r) → q (B, L, Y, X) kg/kg, 0 ≤ q ≤ q_sat."""
            r = self.radius
            b, c1, lev, py, px = zp.shape
            z = zp[:, :-1]
            pos = torch.linspace(-1, 1, lev, device=z.device, dtype=z.dtype).view(1, 1, lev, 1, 1)
            z = torch.cat([z, pos.expand(b, 1, lev, py, px)], 1)
            # Levels folded into the batch: one set of 2D filters for every level.
            z = z.permute(0, 2, 1, 3, 4).reshape(b * lev, c1, py, px)
            h = self.horizontal(z)
            w, oy, ox = h.shape[1:]
            h = h.reshape(b, lev, w, oy, ox)
            if vertical == "gru":
                s, _ = self.vertical(h.permute(0, 3, 4, 1, 2).reshape(b * oy * ox, lev, w))
            else:
                s = self.vertical(h.permute(0, 3, 4, 2, 1).reshape(b * oy * ox, w, lev)).transpose(1, 2)
            frac = torch.sigmoid(self.head(s)).reshape(b, oy, ox, lev).permute(0, 3, 1, 2)
            qsat = torch.exp(zp[:, -1, :, r:r + oy, r:r + ox])
            return frac * qsat

        def forward_valid(self, zp, dp):
            return self.integral(self.humidity_valid(zp), dp)

        def humidity(self, x):
            """x raw (B, C, L, Y, X) → q (B, L, Y, X) kg/kg."""
            return self.humidity_valid(self.pad(self.features(x)))

        def forward(self, x, dp=None):
            """x (B, C, L, Y, X) raw features (last channel log q_sat), dp (B, L, Y, X) Pa → PW (B, Y, X).

            Without ``dp`` (the volume core's trainer passes one tensor): x is the packed
            (B, C+1, L, Y, X) input of :class:`ClimateAdapter` with Δp as its last channel, and the
            result is (B, 1, 1, Y, X), shaped like the adapter's targets (one target, a level axis of 1).
            """
            if dp is None:
                return self.integral(self.humidity(x[:, :-1]), x[:, -1])[:, None, None]
            return self.integral(self.humidity(x), dp)

    return PWNet()


def tiled_predict(model, x, dp, tile: tuple[int, int] = (32, 32)):
    """PW by tiles with halos of the model's receptive radius: equal to ``model(x, dp)`` (to float
    rounding) while activations stay bounded by the tile size. Periodic in x when the model is.

    x: (B, C, L, Y, X) tensor, dp: (B, L, Y, X) → (B, Y, X).
    """
    torch, _ = _torch()
    r = model.radius
    xp = model.pad(model.features(x))  # one padded copy of the input: the halos come from here
    b, _, _, ny, nx = x.shape
    out = torch.empty(b, ny, nx, dtype=x.dtype, device=x.device)
    ty, tx = tile
    with torch.no_grad():
        for y0 in range(0, ny, ty):
            y1 = min(ny, y0 + ty)
            for x0 in range(0, nx, tx):
                x1 = min(nx, x0 + tx)
                out[:, y0:y1, x0:x1] = model.forward_valid(xp[..., y0:y1 + 2 * r, x0:x1 + 2 * r],
                                                           dp[..., y0:y1, x0:x1])
    return out


def train_pw_net(model, x, dp, target, steps: int = 400, lr: float = 3e-3, seed: int = 0, progress=False):
    """Full-field training of a :class:`PWNet` on MSE to PW (kg m-2). Returns the loss history.

    x (B, C, L, Y, X), dp (B, L, Y, X), target (B, Y, X) tensors.
    """
    torch, _ = _torch()
    torch.manual_seed(seed)
    model.fit_normalisation(x)
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    xp = model.pad(model.features(x))
    hist = []
    it = range(steps)
    if progress:
        from tqdm import tqdm

        it = tqdm(it, desc="train PW", unit="step")
    model.train()
    for _ in it:
        opt.zero_grad()
        loss = torch.mean((model.forward_valid(xp, dp) - target) ** 2)
        loss.backward()
        opt.step()
        sched.step()
        hist.append(float(loss.detach()))
    model.eval()
    return hist


def save_pw_net(path, model, extra: dict | None = None) -> None:
    """Checkpoint: weights + architecture config + periodicity (atomic write)."""
    import io

    torch, _ = _torch()
    from pocketvox.atomic import atomic_write_bytes

    buf = io.BytesIO()
    torch.save({"kind": "pocketvox-climate-pw", "config": model.config, "periodic_x": model.periodic_x,
                "state_dict": model.state_dict(), "extra": extra or {}}, buf)
    atomic_write_bytes(path, buf.getvalue())


def load_pw_net(path, periodic_x: bool | None = None):
    """A PWNet from :func:`save_pw_net` files or from ``pocketvox train`` checkpoints (adapter 'climate')."""
    from pocketvox.errors import ModelError
    from pocketvox.volume.io import FORMAT, load_checkpoint

    torch, _ = _torch()
    if not Path(path).is_file():
        raise ModelError(f"{path}: model file not found")
    try:
        ck = torch.load(str(path), map_location="cpu", weights_only=False)
    except Exception as e:
        raise ModelError(f"{path}: cannot read model checkpoint ({type(e).__name__}: {e})") from None
    if isinstance(ck, dict) and ck.get("format") == FORMAT:
        meta = load_checkpoint(path)["meta"]
        if meta.get("adapter") != "climate":
            raise ModelError(f"{path}: model was trained for the {meta.get('adapter')!r} adapter, not 'climate'")
        per = bool(meta.get("adapter_meta", {}).get("periodic_x", False)) if periodic_x is None else periodic_x
        model = build_pw_net(**meta["model"], periodic_x=per)
        model.load_state_dict(ck["model"])
        return model.eval()
    if not isinstance(ck, dict) or ck.get("kind") != "pocketvox-climate-pw":
        raise ModelError(f"{path}: not a pocketvox climate (PW) model")
    model = build_pw_net(**ck["config"], periodic_x=ck["periodic_x"] if periodic_x is None else periodic_x)
    model.load_state_dict(ck["state_dict"])
    return model.eval()


# --------------------------------------------------------------------------- adapter


class _FieldDataset:
    """Whole fields as core items: inputs (C+1, L, Y, X) float32 — the features of
    :func:`column_features` with Δp (Pa) as the last channel — and targets (1, 1, Y, X) PW (kg m-2).
    ``repeat`` lists every field that many times (optimiser steps per epoch with batch size 1)."""

    def __init__(self, items, repeat: int = 1):
        self.items, self.repeat = items, max(int(repeat), 1)

    def __len__(self) -> int:
        return len(self.items) * self.repeat

    def __getitem__(self, i: int) -> dict:
        import torch

        name, x, dp, y = self.items[i % len(self.items)]
        return {"inputs": torch.from_numpy(np.concatenate([x, dp[None]])),
                "targets": torch.from_numpy(np.asarray(y, np.float32)[None, None]), "key": name}


def _paths(v) -> list:
    if v is None:
        return []
    return [v] if isinstance(v, (str, os.PathLike)) else list(v)


class ClimateAdapter:
    """Pressure-level files → ``(C, L, Y, X)`` inputs + Δp; PW predictions → CF-NetCDF.

    Options (the ``[adapter]`` table of a training config, ``adapter = "climate"``):

    train, val : a file or a list of files (NetCDF/GRIB2 with ``pwat`` or ``q``); the fields must share
        their pressure levels
    time_index : time step of files with a time axis
    repeat : optimiser steps per epoch on the training fields (whole-field batches of one)
    width, hidden, n_hconv, vertical, norm : the PW network (:func:`build_pw_net`); its final layer is
        the fixed column integral, so the core trainer trains it through the ``build_model`` hook
    """

    name = "climate"
    task = "regression"
    channel_names = (*CHANNEL_NAMES, "dp")
    target_names = ("pwat",)

    def __init__(self, train=None, val=None, time_index: int = 0, repeat: int = 1, width: int = 8,
                 hidden: int = 16, n_hconv: int = 1, vertical: str = "conv", norm: str = "train"):
        self.train_files, self.val_files = [str(p) for p in _paths(train)], [str(p) for p in _paths(val)]
        self.time_index, self.repeat = int(time_index), int(repeat)
        self.net_options = {"width": int(width), "hidden": int(hidden), "n_hconv": int(n_hconv),
                            "vertical": vertical, "norm": norm}
        self.periodic_x = False

    def load(self, path, time_index: int = 0):
        """Returns (fields, x (C, L, Y, X), dp (L, Y, X), target (Y, X) or None)."""
        f = read_climate(path, time_index)
        x, dp = column_features(f)
        return f, x, dp, f.pwat

    def _items(self, files) -> list:
        out = []
        for p in files:
            f, x, dp, y = self.load(p, self.time_index)
            if y is None:
                raise InputFileError(f"{p}: no 'pwat' (or 'q') to train or validate on")
            out.append((Path(p).name, x, dp, y))
            self.periodic_x = self.periodic_x or f.periodic_x
        return out

    # ---------------------------------------------------------------- core protocol
    def datasets(self, seed: int = 0) -> dict:
        if not self.train_files:
            raise PocketvoxError("climate adapter: give 'train' (a file or a list of files)")
        train = self._items(self.train_files)
        val = self._items(self.val_files)
        shapes = {x.shape[:2] for _, x, _, _ in train + val}
        if len(shapes) > 1:
            raise PocketvoxError(f"climate adapter: files differ in channels x levels {sorted(shapes)}")
        return {"train": _FieldDataset(train, self.repeat), "val": _FieldDataset(val) if val else None}

    def build_model(self, train_config, train_ds):
        """The core trainer's model hook: a PWNet with training-set normalisation statistics."""
        torch, _ = _torch()
        x0 = train_ds.items[0][1]
        net = build_pw_net(x0.shape[0], x0.shape[1], periodic_x=self.periodic_x, **self.net_options)
        net.fit_normalisation(torch.from_numpy(np.stack([x for _, x, _, _ in train_ds.items])))
        return net

    def metadata(self) -> dict:
        return {"adapter": self.name, "train": self.train_files, "val": self.val_files,
                "time_index": self.time_index, "periodic_x": self.periodic_x, "net": self.net_options}

    def write_prediction(self, pred, geometry, path, names=None) -> list:
        """Core protocol: ``pred`` PW (Y, X) or any shape squeezing to it; ``geometry`` the source's
        :class:`ClimateFields` (for lat/lon). Writes CF-NetCDF."""
        self.write_pwat(path, np.squeeze(np.asarray(pred)), geometry)
        return [Path(path)]

    def write_pwat(self, path, pw: np.ndarray, fields: ClimateFields, q: np.ndarray | None = None):
        """Write PW (Y, X) kg m-2 (and optionally q (L, Y, X)) as CF-NetCDF, atomically."""
        import tempfile

        import xarray as xr

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        ds = xr.Dataset(
            {"pwat": (("y", "x"), np.asarray(pw, dtype=np.float32),
                      {"units": "kg m-2", "long_name": "precipitable water (predicted)",
                       "standard_name": "atmosphere_mass_content_of_water_vapor",
                       "coordinates": "lat lon"})},
            coords={"lat": (("y", "x"), fields.lat, {"units": "degrees_north", "standard_name": "latitude"}),
                    "lon": (("y", "x"), fields.lon, {"units": "degrees_east", "standard_name": "longitude"})},
            attrs={"Conventions": "CF-1.8", "source": f"pocketvox infer on {Path(fields.path).name}"},
        )
        if q is not None:
            ds["q"] = (("level", "y", "x"), np.asarray(q, dtype=np.float32),
                       {"units": "kg kg-1", "long_name": "specific humidity (predicted)",
                        "standard_name": "specific_humidity", "coordinates": "lat lon"})
            ds = ds.assign_coords(level=("level", fields.levels_hpa.astype(np.float32),
                                         {"units": "hPa", "positive": "down"}))
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.close(fd)
        try:
            ds.to_netcdf(tmp)
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

"""Writes climate.ipynb (outputs cleared). Rerun after editing the cells below."""

import nbformat as nbf

cells = [
    nbf.v4.new_markdown_cell(
        "# Precipitable water from temperature, height and wind with pocketvox\n\n"
        "Two NCEP NAM fields on the same 93×65 grid with 19 pressure levels: January 2007 (train) and "
        "September 2018 (test). The network sees no humidity: t, gh, u per level plus features derived from "
        "them. Its last layer is a fixed column integral PW = Σ q Δp / g of a predicted, non-negative "
        "specific humidity. Compared with a linear regression on the same column features.\n\n"
        "The full recipe is `pocketvox train --config configs/climate_pw.toml`; its measured figures are in "
        "`benchmarks/results/domains.md`."
    ),
    nbf.v4.new_code_cell(
        "import os\nfrom pathlib import Path\n\nimport matplotlib.pyplot as plt\nimport numpy as np\nimport torch\n\n"
        "from pocketvox.adapters.climate import (\n"
        "    CHANNEL_NAMES,\n    ClimateAdapter,\n    build_pw_net,\n    linear_baseline_features,\n"
        "    tiled_predict,\n    train_pw_net,\n)\n\n"
        "torch.set_num_threads(2)\n"
        "shared = Path(os.environ.get('POCKETVOX_SHARED', Path.cwd().resolve().parents[1] / 'shared'))\n"
        "clim = shared / 'data' / 'volumes' / 'climate'\n"
        "ad = ClimateAdapter()\n"
        "f7, x7, dp7, y7 = ad.load(clim / 'fh.0012_tl.press_gr.awp211.nc')\n"
        "f8, x8, dp8, y8 = ad.load(clim / 'nam.t00z.awp21100.tm00.grib2')   # GRIB2 reads like NetCDF\n"
        "print('channels', CHANNEL_NAMES, '| x', x7.shape, '(C, levels, y, x)')\n"
        "print('levels (hPa)', f7.levels_hpa.astype(int))\n"
        "print(f'mean PW 2007: {y7.mean():.1f}  2018: {y8.mean():.1f} kg m-2')"
    ),
    nbf.v4.new_markdown_cell(
        "## 1. Normalisation and the baseline\nThe network standardises each channel and level with "
        "training-set statistics; the linear regression sees every channel at every level, Δp and the "
        "saturated PW contribution per level."
    ),
    nbf.v4.new_code_cell(
        "from sklearn.linear_model import LinearRegression\nfrom sklearn.pipeline import make_pipeline\n"
        "from sklearn.preprocessing import StandardScaler\n\n\n"
        "def scores(p, y):\n"
        "    p, y = np.ravel(p), np.ravel(y)\n"
        "    return {'rmse': round(float(np.sqrt(np.mean((p - y) ** 2))), 3),\n"
        "            'corr': round(float(np.corrcoef(p, y)[0, 1]), 4)}\n\n\n"
        "lin = make_pipeline(StandardScaler(), LinearRegression()).fit(linear_baseline_features(x7, dp7), y7.ravel())\n"
        "pw_lin = lin.predict(linear_baseline_features(x8, dp8)).reshape(y8.shape)\n"
        "print('linear regression, 2018:', scores(pw_lin, y8))"
    ),
    nbf.v4.new_markdown_cell(
        "## 2. The PW network: a short fit on 2007\nHorizontal 3×3 convolutions shared by levels, 1D "
        "convolutions along the level sequence, q = r · q_sat with r ∈ (0, 1), then the fixed integral."
    ),
    nbf.v4.new_code_cell(
        "torch.manual_seed(0)\n"
        "net = build_pw_net(x7.shape[0], x7.shape[1], width=8, hidden=16, n_hconv=1, norm='train')\n"
        "\n\ndef t(a):\n    return torch.from_numpy(a)[None]\n\n\n"
        "hist = train_pw_net(net, t(x7), t(dp7), t(y7), steps=150, lr=5e-3)\n"
        "print(f'train MSE {hist[0]:.1f} -> {hist[-1]:.2f}')\n"
        "with torch.no_grad():\n"
        "    pw_net = net(t(x8), t(dp8))[0].numpy()\n"
        "    q = net.humidity(t(x8))[0].numpy()\n"
        "print('PW network (150 steps), 2018:', scores(pw_net, y8))\n"
        "n_phys = sum(p.numel() for p in net.integral.parameters())\n"
        "print('physics layer parameters:', n_phys, '| q >= 0:', bool(q.min() >= 0))"
    ),
    nbf.v4.new_markdown_cell("## 3. Maps (test field, September 2018)"),
    nbf.v4.new_code_cell(
        "fig, ax = plt.subplots(1, 4, figsize=(16, 3.6))\n"
        "vmax = float(y8.max())\n"
        "maps = [('pwat (file)', y8), ('PW network', pw_net), ('linear regression', pw_lin)]\n"
        "for a, (title, m) in zip(ax[:3], maps):\n"
        "    im = a.imshow(m, origin='lower', vmin=0, vmax=vmax, cmap='YlGnBu')\n"
        "    a.set_title(title)\n"
        "fig.colorbar(im, ax=ax[:3], shrink=0.8, label='kg m-2')\n"
        "im = ax[3].imshow(pw_net - y8, origin='lower', cmap='RdBu_r', vmin=-10, vmax=10)\n"
        "ax[3].set_title('network - file')\n"
        "fig.colorbar(im, ax=ax[3], shrink=0.8)"
    ),
    nbf.v4.new_code_cell(
        "j, i = np.unravel_index(np.argmax(y8), y8.shape)\n"
        "plt.figure(figsize=(4, 4))\n"
        "plt.plot(q[:, j, i] * 1000, f8.levels_hpa, 'o-', label='predicted q')\n"
        "plt.plot(np.exp(x8[-1][:, j, i]) * 1000, f8.levels_hpa, '--', label='q_sat')\n"
        "plt.gca().invert_yaxis()\nplt.xlabel('g/kg')\nplt.ylabel('hPa')\nplt.legend()\nplt.title('wettest column')"
    ),
    nbf.v4.new_markdown_cell("## 4. Tiled inference\nTiles with halos of the receptive radius give the untiled field."),
    nbf.v4.new_code_cell(
        "tiled = tiled_predict(net, t(x8), t(dp8), tile=(20, 24))[0].numpy()\n"
        "print('max |tiled - untiled| =', float(np.abs(tiled - pw_net).max()))"
    ),
]
nb = nbf.v4.new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                                "language": "python"}})
nbf.write(nb, "climate.ipynb")

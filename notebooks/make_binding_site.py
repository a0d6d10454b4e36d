"""Writes binding_site_analysis.ipynb (outputs cleared). Rerun after editing the cells below."""

import nbformat as nbf

cells = [
    nbf.v4.new_markdown_cell(
        "# Binding-site analysis with pocketvox\n\n"
        "Profile the interactions of a ligand, look at them, predict interaction hotspots from the pocket "
        "alone, and compare the hotspots with what the ligand actually does.\n\n"
        "The example is acetylcholinesterase with donepezil (PDB 1EVE, bundled in `data/examples`). With the "
        "shared PoseBusters data next to the repository, the last section repeats the analysis on a test-split "
        "complex the model never saw."
    ),
    nbf.v4.new_code_cell(
        "import os\nfrom pathlib import Path\n\nimport pocketvox as pv\n"
        "from pocketvox.apps.notebook import example_path\n\n"
        "entry = example_path('1eve.pdb.gz')\n"
        "cpx = pv.load_complex(entry, ligand='E20:A:2001')\ncpx"
    ),
    nbf.v4.new_markdown_cell("## 1. Interactions (PLIP criteria)\nOne row per interaction; coordinates in Å."),
    nbf.v4.new_code_cell(
        "inter = pv.profile(cpx)\ndf = inter.to_dataframe()\n"
        "print(df['type'].value_counts().to_string())\n"
        "df[['type', 'subtype', 'chain', 'resnum', 'resname', 'distance']].sort_values(['type', 'resnum'])"
    ),
    nbf.v4.new_markdown_cell(
        "## 2. Voxel grid\nSixteen atom-type density channels (protein and ligand) and one label channel per class."
    ),
    nbf.v4.new_code_cell(
        "grid = pv.voxelize(cpx, inter)\n"
        "print(grid.spec)\nprint('features', grid.features.shape, 'labels', grid.labels.shape)\n"
        "{name: int(grid.labels[k].sum()) for k, name in enumerate(grid.label_names)}"
    ),
    nbf.v4.new_markdown_cell(
        "## 3. Hotspots from the pocket alone\nPocket mode: the network sees only protein channels; the ligand "
        "places the box and tells which hotspots it satisfies."
    ),
    nbf.v4.new_code_cell(
        "res = pv.predict(entry, ligand='E20:A:2001', mode='pocket')\nres.hotspots_df().head(15)"
    ),
    nbf.v4.new_code_cell(
        "hs = res.hotspots_df()\n"
        "print(f\"{int(hs['satisfied'].sum())} of {len(hs)} hotspots are met by donepezil\")\n"
        "hs[~hs['satisfied'].astype(bool)][['class', 'probability', 'volume', 'residues']]"
    ),
    nbf.v4.new_markdown_cell("## 4. Pictures\nSlices through the box (ligand atoms near the plane in cyan), 3D view."),
    nbf.v4.new_code_cell("fig = pv.plot_slices(res, axis='z')"),
    nbf.v4.new_code_cell("view = pv.view_3d(res)\nview"),
    nbf.v4.new_markdown_cell("## 5. Files for PyMOL and ChimeraX"),
    nbf.v4.new_code_cell(
        "import tempfile\n\nout = Path(tempfile.mkdtemp()) / '1eve_pred'\nfiles = res.write(out)\n"
        "sorted(os.listdir(out))"
    ),
    nbf.v4.new_markdown_cell("## 6. A protein the model never saw (PoseBusters test split)"),
    nbf.v4.new_code_cell(
        "shared = Path(os.environ.get('POCKETVOX_SHARED', Path.cwd().resolve().parents[1] / 'shared'))\n"
        "pb = shared / 'data' / 'posebusters' / '7NGW'\n"
        "if pb.exists():\n"
        "    r2 = pv.predict(pb / '7NGW_protein.pdb', ligand_file=pb / '7NGW_ligand.sdf', mode='pocket')\n"
        "else:\n"
        "    r2 = pv.predict(example_path('7NGW_protein.pdb'), ligand_file=example_path('7NGW_ligand.sdf'))\n"
        "r2.hotspots_df()[['class', 'probability', 'satisfied', 'residues']].head(10)"
    ),
]
nb = nbf.v4.new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                                "language": "python"}})
nbf.write(nb, "binding_site_analysis.ipynb")

# Run once from the repo root: .venv/bin/python benchmarks/repair_fp16_bn.py (then apps.training.finalize on a copy).
"""Repair an fp16-exported model whose BatchNorm running_var overflowed to inf: re-estimate the
running statistics of the affected BN layers on the TRAIN split (cumulative average), keep BN
buffers in float32, then re-choose per-mode thresholds on VAL."""
import torch

from pocketvox.adapters.molecular import MolecularAdapter
from pocketvox.volume.io import load_checkpoint, save_checkpoint
from pocketvox.volume.unet import build_unet

ck = load_checkpoint('pocketvox/models/default.pt')
meta = ck['meta']
net = build_unet(meta['model'])
net.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in ck['model'].items()})
bad = [n for n, m in net.named_modules()
       if isinstance(m, torch.nn.BatchNorm3d) and not torch.isfinite(m.running_var).all()]
print('non-finite BN layers:', bad)
net.eval()
for n, m in net.named_modules():
    if n in bad:
        m.reset_running_stats()
        m.momentum = None  # cumulative average over the pass
        m.train()
a = MolecularAdapter(cache='runs/posebusters.h5')
ds = a.dataset('train', seed=0)  # the training distribution: ligand dropout + augmentation
ds.set_epoch(0)
with torch.no_grad():
    for lo in range(0, len(ds), 8):
        x = torch.stack([ds[i]['inputs'] for i in range(lo, min(lo + 8, len(ds)))])
        net(x)
net.eval()
sd = {}
for k, v in net.state_dict().items():
    keep32 = 'running_' in k or 'num_batches' in k
    sd[k] = v if (keep32 or not v.is_floating_point()) else v.half()
meta['weights_dtype'] = 'float16 (conv weights); BatchNorm statistics float32'
meta['repair'] = (f"BatchNorm running statistics of {', '.join(bad)} re-estimated on the train split (the "
                  "float16 export had overflowed running_var to inf); thresholds re-chosen on val")
save_checkpoint({'model': sd, 'meta': meta}, 'pocketvox/models/default.pt')

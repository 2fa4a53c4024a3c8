"""Issue 30, part B: estimate the MedMNIST-like central width share of the squished 224 px folder images, from training
images only.

PneumoniaMNIST's training images are MedMNIST's centre square crop (side = the short side, so the full height and the
central H/W of the width of a landscape original) of Kaggle training files, resized to 28 px. The folder copy was
squished to 224 x 224 first, so the crop that matches is a central width share w = H/W of the original. For 400
random folder *training* images (split seed 42) and each w, the 28 px width crop is correlated with every
PneumoniaMNIST *training* image; an image whose best correlation exceeds 0.97 is taken as matched, with its best w.
Writes benchmarks/out/folders/medmnist_share.json (the median w) and prints the distribution. No validation or
test image is read.
"""
import json, sys
from pathlib import Path
import numpy as np, torch
torch.set_num_threads(1)
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from train_levers import width_crop, OUT, SPLIT_SEED
from pneumo_nb.data import run_data, load_pneumoniamnist

SHARES = np.round(np.arange(0.60, 1.0001, 0.025), 3)

def zn(a):
    a = a.reshape(len(a), -1).astype(np.float32); a -= a.mean(1, keepdims=True)
    return a / (np.linalg.norm(a, axis=1, keepdims=True) + 1e-6)

def main(n=400, data='/work/shared/data'):
    rd = run_data('folder', f'{data}/chest_xray_224', 224, 1, 0.15, SPLIT_SEED, splits=('train',))
    x, _ = rd.xy('train'); x = np.asarray(x)
    sel = np.random.default_rng(0).choice(len(x), n, replace=False)
    xm, _ = load_pneumoniamnist('train', root=f'{data}/pneumoniamnist')
    B = zn(np.asarray(xm))
    best = np.full((n, len(SHARES)), -1.0)
    for j, s in enumerate(SHARES): best[:, j] = (zn(width_crop(x[sel], s, 28)) @ B.T).max(1)
    c, w = best.max(1), SHARES[best.argmax(1)]
    m = c > 0.97
    res = dict(share=float(np.median(w[m])), n_images=n, n_matched=int(m.sum()), quartiles=[float(q) for q in np.quantile(w[m], [0.25, 0.5, 0.75])],
               share_counts={str(s): int((w[m] == s).sum()) for s in SHARES}, corr_median_matched=float(np.median(c[m])),
               corr_at_share1_median=float(np.median(best[m, -1])))
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT/'medmnist_share.json').write_text(json.dumps(res, indent=1))
    print(json.dumps(res, indent=1))

if __name__ == '__main__': main()

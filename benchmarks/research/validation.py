"""Validation research (issue 12 item 3): which validation criterion ranks 28 px recipes like test does?

For one configuration (the `recipe.py` `Cfg` fields) and one seed this script trains
  (1) the official model: PneumoniaMNIST `train` -> probabilities on official `val`, on shift-perturbed copies of
      `val` (contrast, gamma, blur, down/up-sampling, crop) and on `test`, without and with flip TTA;
  (2) with `--patient`, the patient-level model: the same recipe trained on 28 px images made from the Kaggle train
      folder (chest_xray_224/train, MedMNIST-style: centre square crop + bicubic resize to 28, grayscale) of 85 % of the
      patients, and scored on the other 15 % of patients (`pneumo_nb.data.patient_split`, seed 42): a validation
      set none of whose patients was seen in training.
Probabilities go to logs/validation/probs_<name>_s<seed>[_patient].npz, one JSON line per run to
logs/validation/runs.jsonl. Nothing is selected here: `validation_analysis.py` computes the criteria afterwards.

    python validation.py --config E_cw_aff_int --seed 0 [--patient] [--official]
"""
import os, sys, time, json, argparse, dataclasses
import numpy as np, torch, torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from recipe import Cfg, load, train_recipe, predict   # the plain-PyTorch recipe of issue 8 (ABLATION.md)

OUT = os.path.join(HERE, 'logs', 'validation')

# The configurations (Cfg fields on top of Cfg() defaults). A-L are recipe.py's ablation rows; M-Q are cheap variants
# added for this study (fewer epochs, no augmentation, width, learning rate, stronger affine augmentation).
E = dict(cw='balanced', affine=1.0, intensity=1.0)
CONFIGS = {
    'A_base': dict(),
    'B_cw': dict(cw='balanced'),
    'C_cw_imgnorm': dict(cw='balanced', norm='image'),
    'D_cw_imgnorm_aff': dict(cw='balanced', norm='image', affine=1.0),
    'E_cw_aff_int': E,
    'F_cw_aff': dict(cw='balanced', affine=1.0),
    'G_mix': dict(E, mixup=0.4),
    'J_cw_aff_int2': dict(E, intensity=2.0),
    'K_cw_int': dict(cw='balanced', intensity=1.0),
    'L_ep20': dict(E, epochs=20),
    'M_ep6': dict(E, epochs=6),
    'N_noaug': dict(flip=0.0),
    'O_w8': dict(E, width=8),
    'P_lr1e3': dict(E, lr=1e-3),
    'Q_aff2': dict(E, affine=2.0),
}
# The shared 2-core machine ran these at about 400 s of wall clock per 12-epoch model, too slow for all of the above in
# the session's budget; the study therefore uses A, B, E at their 12 epochs and 6-epoch versions of the others
# (a configuration is the whole recipe, epochs included).
for k in ('C_cw_imgnorm', 'D_cw_imgnorm_aff', 'F_cw_aff', 'G_mix', 'J_cw_aff_int2', 'K_cw_int', 'N_noaug'):
    CONFIGS[k[0] + '6' + k[1:]] = dict(CONFIGS[k], epochs=6)
CONFIGS['O6_w8'] = dict(E, width=8, epochs=6)
# At 10:32 the machine's load was ~10 (about 6 min of wall clock per 6-epoch model): D6, G6 and J6 were replaced by
# width-8 versions, which cost about a quarter as much.
for k in ('A_base', 'D_cw_imgnorm_aff', 'G_mix', 'J_cw_aff_int2'):
    CONFIGS[k[0] + '6_w8' + k[1:]] = dict(CONFIGS[k], epochs=6, width=8)
STUDY = ['A_base', 'B_cw', 'E_cw_aff_int', 'M_ep6', 'C6_cw_imgnorm', 'F6_cw_aff', 'K6_cw_int', 'N6_noaug', 'O6_w8',
         'A6_w8_base', 'D6_w8_cw_imgnorm_aff', 'G6_w8_mix', 'J6_w8_cw_aff_int2']

# ---------------------------------------------------------------- shift-perturbed copies of a float batch [N,1,28,28] in [0,1]
def _contrast(x, k):
    mu = x.mean((1, 2, 3), keepdim=True); return ((x - mu) * k + mu).clamp(0, 1)

def _blur(x, sigma):
    r = int(3 * sigma + 0.5); t = torch.arange(-r, r + 1, dtype=torch.float32)
    k = torch.exp(-t ** 2 / (2 * sigma ** 2)); k = k / k.sum()
    x = F.pad(x, (r, r, r, r), mode='reflect')
    x = F.conv2d(x, k.view(1, 1, 1, -1)); return F.conv2d(x, k.view(1, 1, -1, 1))

def _downup(x, s):
    return F.interpolate(F.interpolate(x, size=(s, s), mode='bilinear', antialias=True, align_corners=False),
                         size=x.shape[-2:], mode='bilinear', align_corners=False).clamp(0, 1)

def _crop(x, s):
    o = (x.shape[-1] - s) // 2
    return F.interpolate(x[..., o:o + s, o:o + s], size=x.shape[-2:], mode='bicubic', align_corners=False).clamp(0, 1)

SHIFTS = {  # defined before any run of this study; each is deterministic
    'contrast0.7': lambda x: _contrast(x, 0.7), 'contrast1.3': lambda x: _contrast(x, 1.3),
    'gamma0.6': lambda x: x.clamp(1e-4, 1) ** 0.6, 'gamma1.6': lambda x: x.clamp(1e-4, 1) ** 1.6,
    'blur1': lambda x: _blur(x, 1.0), 'downup14': lambda x: _downup(x, 14), 'crop22': lambda x: _crop(x, 22),
}

# ---------------------------------------------------------------- Kaggle-derived 28 px images with patient ids
def kaggle28(root=None, cache=os.environ.get('PNEUMO_CACHE', '/tmp/pneumo_research_cache')):
    "Kaggle chest_xray_224/train as 28 px uint8 arrays (centre square crop + bicubic resize, grayscale), labels, patient ids."
    f = os.path.join(cache, 'kaggle28_train.npz')
    if os.path.exists(f):
        d = np.load(f, allow_pickle=False); return d['x'], d['y'], d['patient'], d['fname']
    from pneumo_nb.data import read_xray, preprocess_xray, raw_preprocessing, patient_id
    from pneumo_nb.core import CLASSES
    root = root or os.environ.get('PNEUMO_DATA', '/work/shared/data')
    raw = raw_preprocessing('pneumoniamnist', 28)
    xs, ys, ps, fs = [], [], [], []
    for lab, c in enumerate(CLASSES):
        d = os.path.join(root, 'chest_xray_224', 'train', c)
        for fn in sorted(os.listdir(d)):
            xs.append(preprocess_xray(read_xray(os.path.join(d, fn), n_ch=1), raw)); ys.append(lab)
            ps.append(patient_id(fn)); fs.append(fn)
    x, y, p, fn = np.stack(xs), np.array(ys), np.array(ps), np.array(fs)
    os.makedirs(cache, exist_ok=True); np.savez_compressed(f, x=x, y=y, patient=p, fname=fn)
    return x, y, p, fn

def patient_split(patient, label, valid_pct=0.15, seed=42):
    "Boolean mask of the validation images: about `valid_pct` of the images, grouped by patient, stratified by label."
    # the same rule as `pneumo_nb.data.patient_split` at commit 1506db0 (StratifiedGroupKFold, first fold), copied here so
    # that this study does not change when the package's data module is restructured
    from sklearn.model_selection import StratifiedGroupKFold
    sgkf = StratifiedGroupKFold(n_splits=max(2, round(1 / valid_pct)), shuffle=True, random_state=seed)
    _, va = next(sgkf.split(np.arange(len(label)), label, patient))
    m = np.zeros(len(label), bool); m[va] = True
    return m

def patient_data(seed=42, valid_pct=0.15):
    "train/valid float tensors of a patient-disjoint split of the Kaggle-derived 28 px images (no patient in both)."
    x, y, p, fn = kaggle28()
    va = patient_split(p, np.where(y == 1, 'PNEUMONIA', 'NORMAL'), valid_pct, seed)
    assert not set(p[~va]) & set(p[va])
    t = lambda m: (torch.tensor(x[m], dtype=torch.float32)[:, None] / 255., torch.tensor(y[m], dtype=torch.float32))
    return {'train': t(~va), 'val': t(va)}, fn[va]

def cfg_of(name):
    return Cfg(**{**CONFIGS[name], 'name': name, 'threads': 1})

def run(name, seed, official=True, patient=True):
    torch.set_num_threads(1)
    c = cfg_of(name); os.makedirs(OUT, exist_ok=True)
    jobs = ([('official', load())] if official else []) + ([('patient', patient_data()[0])] if patient else [])
    for kind, data in jobs:
        f = os.path.join(OUT, f"probs_{name}_s{seed}{'' if kind == 'official' else '_patient'}.npz")
        if os.path.exists(f): print('exists, skipped:', f, flush=True); continue
        m = train_recipe(seed, c, data, log=lambda t: None)
        probs = {}
        for tta in (1, 2):
            ct, sfx = dataclasses.replace(c, tta=tta), '' if tta == 1 else '_tta'
            xv = data['val'][0]
            probs['val' + sfx] = predict(m, xv, ct)
            if kind == 'official':
                for k, fn in SHIFTS.items(): probs[f'shift_{k}{sfx}'] = predict(m, fn(xv), ct)
                probs['test' + sfx] = predict(m, data['test'][0], ct)
        np.savez_compressed(f, **probs)
        rec = dict(name=name, seed=seed, kind=kind, train_s=round(m.train_time, 1), cpu_s=round(m.cpu_time, 1),
                   cfg=dataclasses.asdict(c), n_train=len(data['train'][1]), n_val=len(data['val'][1]),
                   finished=time.strftime('%Y-%m-%d %H:%M:%S'))
        with open(os.path.join(OUT, 'runs.jsonl'), 'a') as fh: fh.write(json.dumps(rec) + '\n')
        print('done', rec, flush=True)

if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('--config', nargs='+', required=True, choices=list(CONFIGS) + ['all'])
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--patient', action='store_true', help='train/score the patient-level model')
    ap.add_argument('--official', action='store_true', help='train/score the official-split model')
    a = ap.parse_args()
    names = STUDY if a.config == ['all'] else a.config
    for n in names: run(n, a.seed, official=a.official, patient=a.patient)

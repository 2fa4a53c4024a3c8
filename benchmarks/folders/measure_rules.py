"""Issue 30, part A: the declared measurement of the threshold rules, on validation only (DECLARATION.md).

    OMP_NUM_THREADS=1 nice -n 19 python benchmarks/folders/measure_rules.py [--data /work/shared/data] [--skip-weightless]

Writes benchmarks/folders/results/{shift_rules.csv, weightless_rules.csv, rules_summary.md}. Reads only
validation images and validation rows of predictions.csv; never the test split.
"""
import argparse, json, sys, glob
from pathlib import Path
import numpy as np, pandas as pd, torch
from sklearn.metrics import roc_auc_score

torch.set_num_threads(1)
HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path[:0] = [str(HERE), str(ROOT/'benchmarks'/'research')]
from threshold_rule import choose_threshold_rule, RULES, _z   # noqa: E402
RES = HERE/'results'
OFFSETS = (-1.0, -0.5, 0.5, 1.0)
B_BOOT = 200

def at(y, p, t):
    y, p = np.asarray(y).astype(int), np.asarray(p, float)
    pred = p >= t
    sens, spec = pred[y == 1].mean(), (~pred[y == 0]).mean()
    return dict(ba=(sens + spec) / 2, sens=sens, spec=spec)

def pick(y, p, rule, groups=None):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        t, tab = choose_threshold_rule(y, p, rule=rule, groups=groups)
    return t, tab.attrs

# --------------------------------------------------------------------- weightless: every run's validation predictions
def weightless_runs():
    runs = sorted(glob.glob(str(ROOT/'benchmarks'/'results'/'*'/'seed*')))
    runs = [(Path(r).parent.name + '/' + Path(r).name, Path(r)) for r in runs if (Path(r)/'predictions.csv').is_file()]
    runs += [(f'reference/{n}', ROOT/'pneumo_nb'/'reference'/n) for n in ('pneumoniamnist-28', 'chest-xray-64')]
    return runs

def weightless(rows):
    for name, d in weightless_runs():
        pr = pd.read_csv(d/'predictions.csv'); pr = pr[pr.split == 'valid']
        sp = pd.read_csv(d/'split.csv')
        pat = pr.item.map(dict(zip(sp.item, sp.patient))).values
        y, p = pr.label.values.astype(int), pr.prob_pneumonia.values.astype(float)
        z = _z(p)
        rng = np.random.default_rng(0)
        ug, inv = np.unique(pat, return_inverse=True); members = [np.flatnonzero(inv == k) for k in range(len(ug))]
        boots = [np.concatenate([members[k] for k in rng.integers(0, len(ug), len(ug))]) for _ in range(B_BOOT)]
        for rule in RULES:
            t, attrs = pick(y, p, rule, pat)
            c = at(y, p, t)
            off = [at(y, 1 / (1 + np.exp(-(z + o))), t)['ba'] for o in OFFSETS]
            nb = B_BOOT if rule != 'bagged' else 40   # bagged resamples inside each resample: 40 outer resamples (CPU)
            bz = [_z(pick(y[i], p[i], rule, pat[i])[0]) for i in boots[:nb]]
            rows.append(dict(run=name, rule=rule, n_valid=len(y), val_auc=float(roc_auc_score(y, p)),
                             threshold=t, tied=attrs['tied'], fell_back=attrs['fell_back'], val_ba=c['ba'], val_sens=c['sens'],
                             val_spec=c['spec'], offset_ba_mean=float(np.mean(off)), offset_ba_min=float(np.min(off)),
                             boot_sd_logit=float(np.std(bz, ddof=1)), n_boot=nb))
        print('weightless', name, flush=True)
    return rows

# --------------------------------------------------------------------- with weights: shifted validation images
def models_with_weights(data):
    from pneumo_nb.runs import load_run
    from pneumo_nb.data import run_data
    out = []
    for n, sub in (('pneumoniamnist-28', ''), ('chest-xray-64', 'chest_xray_64')):
        r = load_run(n); rec = r.record
        d = run_data(rec['source']['dataset'], str(Path(data)/sub) if sub else data, rec['config']['size'], raw=r.raw,
                     split=r.split, splits=('valid',))
        x, y = d.xy('valid'); it = d.items.iloc[d.idx('valid')]
        out.append((f'reference/{n}', r.model, r.batch, x, np.asarray(y), it.patient.values, r.raw['size']))
    from train_levers import LEVERS, OUT, lever_data
    from pneumo_nb.models import get_model
    for lv in sorted(p.name for p in OUT.iterdir() if p.is_dir()) if OUT.is_dir() else []:
        seeds = sorted(OUT.glob(f'{lv}/seed*/info.json'))
        if not seeds or lv not in LEVERS: continue
        rd, raw, (xt, yt, xv, yv) = lever_data(lv, str(Path(data)/'chest_xray_224'))
        pat = rd.items.iloc[rd.idx('valid')].patient.values
        for f in seeds:
            info = json.loads(f.read_text())
            m = get_model(info['arch'], n_in=1, pretrained=False, img_size=info['batch']['img_size'] or info['raw']['size'],
                          **info['model_kwargs'])
            m.load_state_dict(torch.load(f.parent/'model.pth', weights_only=True)); m.eval()
            out.append((f'{lv}/{f.parent.name}', m, info['batch'], xv, np.asarray(yv), pat, info['raw']['size']))
    return out

CACHE = ROOT/'benchmarks'/'out'/'folders'/'probs'
HELD_OUT = ('downup0.25', 'blur2', 'jpeg25', 'zoomout0.9', 'squishw0.8')   # addendum A2's held-out shifts

def model_probs(data):
    "Per model with weights: validation labels, patients, clean probabilities and each shifted copy's (cached, validation only)."
    from pneumo_nb.evaluate import predict_arrays
    from pneumo_nb.data import tag_split
    try: from pneumo_nb.search import SHIFTS as SEARCH_SHIFTS
    except ImportError: from pneumo_nb.criterion import SHIFTS as SEARCH_SHIFTS   # the lead's restructured package
    from ablate64 import shifts as folder_shifts
    CACHE.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, model, batch, x, y, pat, size in models_with_weights(data):
        f = CACHE/(name.replace('/', '__') + '.npz')
        if f.is_file(): out[name] = dict(np.load(f, allow_pickle=True)); continue
        x = np.asarray(x); t01 = torch.as_tensor(x).float().div(255)[:, None]
        d = dict(y=np.asarray(y).astype(int), patient=np.asarray(pat).astype(str),
                 clean=predict_arrays(model, tag_split(x, 'valid'), batch, device='cpu'))
        for sname, fs in (('folder', folder_shifts(size)), ('search', SEARCH_SHIFTS)):
            for k, fn in fs.items():
                xs = (fn(t01)[:, 0] * 255).round().clamp(0, 255).to(torch.uint8).numpy()
                d[f'{sname}:{k}'] = predict_arrays(model, tag_split(xs, 'valid'), batch, device='cpu')
        np.savez(f, **d); out[name] = d
        print('shifted', name, flush=True)
    return out

def with_weights(rows, data, probs=None):
    probs = probs or model_probs(data)
    for name, d in probs.items():
        y, pv, pat = d['y'], d['clean'], d['patient']
        for rule in RULES:
            t, attrs = pick(y, pv, rule, pat)
            c = at(y, pv, t)
            for sname in ('folder', 'search'):
                per = {k.split(':', 1)[1]: at(y, d[k], t) for k in d if k.startswith(sname + ':')}
                rows.append(dict(model=name, rule=rule, shift_set=sname, threshold=t, tied=attrs['tied'], val_ba=c['ba'],
                                 val_sens=c['sens'], val_spec=c['spec'],
                                 shift_ba=float(np.mean([v['ba'] for v in per.values()])),
                                 shift_ba_min=float(np.min([v['ba'] for v in per.values()])),
                                 shift_sens=float(np.mean([v['sens'] for v in per.values()])),
                                 shift_spec=float(np.mean([v['spec'] for v in per.values()])),
                                 drop_ba=c['ba'] - float(np.mean([v['ba'] for v in per.values()])),
                                 **({f'ba_{k}': round(v['ba'], 4) for k, v in per.items()} if sname == 'folder' else {})))
    return rows

def a2_rows(rows, data, probs=None):
    "Addendum A2: rules that choose with the 7 search shifts, scored on the 5 held-out folder shifts."
    from threshold_rule import SHIFT_RULES
    import warnings
    probs = probs or model_probs(data)
    for name, d in probs.items():
        y, pv = d['y'], d['clean']
        P = np.stack([d[k] for k in d if k.startswith('search:')])
        for rule in ('lowest', 'mid_logit') + SHIFT_RULES:
            with warnings.catch_warnings():
                warnings.simplefilter('ignore')
                t, tab = choose_threshold_rule(y, pv, rule=rule, p_shift=P if rule in SHIFT_RULES else None)
            c = at(y, pv, t); per = [at(y, d[f'folder:{k}'], t) for k in HELD_OUT]
            rows.append(dict(model=name, rule=rule, threshold=t, val_ba=c['ba'], val_sens=c['sens'], val_spec=c['spec'],
                             heldout_ba=float(np.mean([v['ba'] for v in per])), heldout_sens=float(np.mean([v['sens'] for v in per])),
                             heldout_spec=float(np.mean([v['spec'] for v in per])), heldout_ba_min=float(np.min([v['ba'] for v in per]))))
    return rows

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--data', default='/work/shared/data')
    ap.add_argument('--skip-weightless', action='store_true')
    ap.add_argument('--skip-shift', action='store_true')
    a = ap.parse_args()
    RES.mkdir(exist_ok=True)
    if not a.skip_shift:
        probs = model_probs(a.data)
        pd.DataFrame(with_weights([], a.data, probs)).to_csv(RES/'shift_rules.csv', index=False, float_format='%.4f')
        pd.DataFrame(a2_rows([], a.data, probs)).to_csv(RES/'a2_rules.csv', index=False, float_format='%.4f')
    if not a.skip_weightless:
        pd.DataFrame(weightless([])).to_csv(RES/'weightless_rules.csv', index=False, float_format='%.4f')

if __name__ == '__main__': main()

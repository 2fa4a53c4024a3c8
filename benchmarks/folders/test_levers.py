"""Issue 30, addendum B2: the levers' test numbers for the lever table, read once per lever seed AFTER the choice was made
on validation (DECLARATION.md, addendum B2; the choice is in README.md, part B). Nothing here chooses anything.

    OMP_NUM_THREADS=1 python benchmarks/folders/test_levers.py [--data DIR]

For every trained lever seed in benchmarks/out/folders/<lever>/seed<k>/ (from train_levers.py) and for the shipped
`pneumoniamnist-28` (the comparison the issue asks for: the 224 px Kaggle test folder through its recorded preprocessing):
- the validation threshold under the rule the part B criterion declared (`clean`: the library's rule without shifted
  copies) and under the library's pooled rule (`pooled`: with the model's 7 shifted copies of its validation images);
  the shipped model's is its own recorded threshold (the pooled rule, chosen on its PneumoniaMNIST validation split);
- the test split (the 624 images of the folder's test/) scored once through `pneumo_nb.runfolder.score_test`, the read
  recorded in results/test_reads/<lever>/seed<k>/test_reads.jsonl (committed), with the per-image validation and test
  probabilities beside it (valid.csv, test.csv) so every number below can be recomputed without weights;
- a seed already read (its ledger exists) is not read again: its stored test.csv is used.
Writes results/levers_test.csv (one row per model) and results/levers_test.md (mean ± sample SD over seeds).
"""
import argparse, json, sys, warnings
from pathlib import Path
import numpy as np, pandas as pd, torch

torch.set_num_threads(1)
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from train_levers import LEVERS, OUT, lever_data, valid_table, width_crop   # the levers' own preprocessing

RES = HERE/'results'
CACHE = HERE.parents[1]/'benchmarks'/'out'/'folders'/'probs'   # measure_rules.py's cache of shifted validation probabilities
LEDGERS = RES/'test_reads'
CALLER = 'benchmarks/folders/test_levers.py (issue 30 lever table, after the validation choice)'
SD = dict(ddof=1)

def test_arrays(name, data):
    "The lever's test images and labels with the preprocessing it trained with (the folder's test/ split), tagged 'test'."
    from pneumo_nb.data import run_data, tag_split
    lv = LEVERS[name]
    if 'wcrop' in lv:
        share = json.loads((OUT/'medmnist_share.json').read_text())['share']
        rd = run_data('folder', data, 224, 1, 0.15, 42, splits=('test',))
        x, y = rd.xy('test')
        x = tag_split(width_crop(np.asarray(x), share, lv['size']), 'test')
    else:
        rd = run_data('folder', data, lv['size'], 1, 0.15, 42, splits=('test',), crop=lv.get('crop'))
        x, y = rd.xy('test')
    items = rd.items.iloc[rd.idx('test')].item.values
    return x, y, items

def load_lever_model(d, info):
    from pneumo_nb.models import get_model
    from pneumo_nb.core import load_state
    m = get_model(info['arch'], n_in=1, pretrained=False, img_size=info['config']['size'], **(info.get('model_kwargs') or {}))
    load_state(d/'model.pth', m)
    return m.eval()

def metrics_row(y, p, t):
    from pneumo_nb.metrics import binary_metrics
    m = binary_metrics(y, p, t)
    return {k: float(m[k]) for k in ('accuracy', 'sensitivity', 'specificity', 'balanced_accuracy')}

def thresholds(yv, pv, p_shift):
    from pneumo_nb.metrics import choose_threshold
    from pneumo_nb.data import tag_split
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        return (choose_threshold(tag_split(yv, 'valid'), pv)[0], choose_threshold(tag_split(yv, 'valid'), pv, p_shift=p_shift)[0])

def read_once(ledger, model, x, batch, items, y):
    "Test probabilities: the stored ones if this seed was read before, else one recorded read through score_test."
    from pneumo_nb.runfolder import score_test
    f = ledger/'test.csv'
    if (ledger/'test_reads.jsonl').is_file() and f.is_file():
        t = pd.read_csv(f); assert (t.item.values == items).all(); return t.prob_pneumonia.values
    p = score_test(ledger, model, x, batch, CALLER, device='cpu')
    pd.DataFrame(dict(item=items, label=np.asarray(y), prob_pneumonia=np.round(np.asarray(p, float), 6))).to_csv(f, index=False)
    return np.asarray(p)

def shifted_valid_probs(name, seed_dir, info, data, yv):
    "The model's probabilities on the 7 shifted copies of its validation images (`criterion.shift_probs`), [7, N]: from the cache of\n    measure_rules.py / levers_b2.py (the same copies, the same `predict_arrays`) when it is there, else computed."
    from pneumo_nb.criterion import SHIFTS, shift_probs
    f = CACHE/f"{name}__{seed_dir.name}.npz"
    if f.is_file():
        d = np.load(f, allow_pickle=True); assert (d['y'] == np.asarray(yv)).all()
        return np.stack([d[f'search:{k}'] for k in SHIFTS])
    rd, raw, (xt, yt, xv, yv_) = lever_data(name, data)
    return shift_probs(load_lever_model(seed_dir, info), xv, info['batch'], device='cpu')

def lever_rows(data):
    from pneumo_nb.metrics import binary_metrics
    rows = []
    for name in LEVERS:
        seeds = sorted((OUT/name).glob('seed*/info.json'))
        if not seeds: continue
        x, y, items = test_arrays(name, data)
        for info_f in seeds:
            d = info_f.parent; info = json.loads(info_f.read_text())
            ledger = LEDGERS/name/d.name; ledger.mkdir(parents=True, exist_ok=True)
            v = pd.read_csv(d/'valid.csv'); yv = v.label.values
            v.to_csv(ledger/'valid.csv', index=False)
            model = load_lever_model(d, info)
            ps = shifted_valid_probs(name, d, info, data, yv)
            t_clean, t_pooled = thresholds(yv, v.prob_pneumonia.values, ps)
            p = read_once(ledger, model, x, info['batch'], items, y)
            m = binary_metrics(y, p)
            rows.append(dict(model=name, seed=info['seed'], size=info['config']['size'], val_auc=info['val_auc'], test_auc=float(m['auc']),
                             t_clean=t_clean, t_pooled=t_pooled,
                             **{f'{k}_05': v_ for k, v_ in metrics_row(y, p, 0.5).items()},
                             **{f'{k}_clean': v_ for k, v_ in metrics_row(y, p, t_clean).items()},
                             **{f'{k}_pooled': v_ for k, v_ in metrics_row(y, p, t_pooled).items()},
                             train_cpu_s=info['train_cpu_s']))
            print(f"{name} {d.name}: val AUC {info['val_auc']:.4f}, test AUC {m['auc']:.4f}, thresholds {t_clean:.2f} / {t_pooled:.2f}", flush=True)
    return rows

def shipped_row(data):
    "The shipped pneumoniamnist-28 on the folder's test/ through its recorded preprocessing, at its own threshold."
    from pneumo_nb.runs import load_run
    from pneumo_nb.data import run_data
    from pneumo_nb.metrics import binary_metrics
    r = load_run('pneumoniamnist-28')
    rd = run_data('folder', data, raw=r.raw, splits=('test',))
    x, y = rd.xy('test'); items = rd.items.iloc[rd.idx('test')].item.values
    ledger = LEDGERS/'pneumoniamnist-28_on_folder'; ledger.mkdir(parents=True, exist_ok=True)
    p = read_once(ledger, r.model, x, r.batch, items, y)
    m = binary_metrics(y, p); t = r.threshold
    return dict(model='shipped pneumoniamnist-28', seed=0, size=28, val_auc=r.metrics['val']['auc'], test_auc=float(m['auc']),
                t_clean=np.nan, t_pooled=t, **{f'{k}_05': v_ for k, v_ in metrics_row(y, p, 0.5).items()},
                **{f'{k}_pooled': v_ for k, v_ in metrics_row(y, p, t).items()})

def table(d):
    f = lambda a, n=3: f'{np.mean(a):.{n}f}' + (f' ± {np.std(a, **SD):.{n}f}' if len(a) > 1 else '')
    L = ['| model | seeds | val AUC | test AUC | test ACC / sens / spec at 0.5 | thresholds (clean rule) | test ACC / sens / spec there | thresholds (pooled rule) | test ACC / sens / spec there |',
         '|---|---|---|---|---|---|---|---|---|']
    for name, g in d.groupby('model', sort=False):
        trip = lambda s: ' / '.join(f(g[f'{k}_{s}']) for k in ('accuracy', 'sensitivity', 'specificity')) if g[f'accuracy_{s}'].notna().all() else ''
        th = lambda s: ', '.join(f'{t:.2f}' for t in g[f't_{s}']) if g[f't_{s}'].notna().all() else ''
        L.append(f"| `{name}` | {len(g)} | {f(g.val_auc, 4)} | {f(g.test_auc)} | {trip('05')} | {th('clean')} | {trip('clean')} | {th('pooled')} | {trip('pooled')} |")
    return '\n'.join(L)

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--data', default='/work/shared/data')
    a = ap.parse_args()
    root = Path(a.data)
    rows = lever_rows(str(root/'chest_xray_224')) + [shipped_row(str(root/'chest_xray_224'))]
    d = pd.DataFrame(rows); d.to_csv(RES/'levers_test.csv', index=False, float_format='%.4f')
    md = ('Test numbers of the issue 30 levers, read after the validation choice (DECLARATION.md, addendum B2); they do not change it. '
          '624 test images of the 224 px Kaggle copy, each lever through its own preprocessing. val AUC: the folder validation split '
          '(split seed 42, 746 images); for the shipped `pneumoniamnist-28` its own PneumoniaMNIST validation split, so that cell is not comparable. '
          '± : sample SD over seeds (ddof 1). Clean rule: `choose_threshold` on validation alone (the rule part B declared); pooled rule: '
          'with the model\'s 7 shifted copies of validation (the library\'s rule since issue 30; the shipped model\'s own threshold).\n\n' + table(d) + '\n')
    (RES/'levers_test.md').write_text(md); print(md)

if __name__ == '__main__': main()

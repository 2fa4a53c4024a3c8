"""Issue 30, addendum B2: the part B criterion applied to every lever trained in this session (validation only).

    OMP_NUM_THREADS=1 python benchmarks/folders/levers_b2.py [--data /work/shared/data]

The levers of train_levers.py were all retrained here (the first session's weights were on a machine that is gone), so
the choice is made again, by the criterion declared before the part B runs and kept unchanged by addendum B2: mean
validation AUC over seeds; levers within 0.001 of the best are tied; ties broken by the mean balanced accuracy on the 12
folder shifts of validation at today's (clean) threshold; then the cheaper lever (CPU seconds per seed). Reads only
validation images (`measure_rules.model_probs`, cached under benchmarks/out/folders/probs). Writes
results/b2_shift_rules.csv (the shifted-validation scores of each lever seed at today's clean threshold) and results/levers_b2.md /
results/levers_b2.csv (the lever table, with the criterion's verdict). The part A files (shift_rules.csv, a2_rules.csv,
levers.md) are the first session's measurement and are left as they were.
"""
import argparse, json, sys
from pathlib import Path
import numpy as np, pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import measure_rules as mr                     # noqa: E402
from train_levers import OUT, LEVERS           # noqa: E402
RES = HERE/'results'
TIE = 0.001
SD = dict(ddof=1)

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--data', default='/work/shared/data')
    a = ap.parse_args()
    probs = {k: v for k, v in mr.model_probs(a.data).items() if not k.startswith('reference/')}
    srows = []
    for name, d in probs.items():   # today's (clean) rule only: the criterion's tie-break
        y, pv = d['y'], d['clean']
        t, attrs = mr.pick(y, pv, 'lowest')
        c = mr.at(y, pv, t); per = {k.split(':', 1)[1]: mr.at(y, d[k], t) for k in d if k.startswith('folder:')}
        srows.append(dict(model=name, rule='lowest', shift_set='folder', threshold=t, tied=attrs['tied'], val_ba=c['ba'],
                          val_sens=c['sens'], val_spec=c['spec'], shift_ba=float(np.mean([v['ba'] for v in per.values()])),
                          shift_sens=float(np.mean([v['sens'] for v in per.values()])),
                          shift_spec=float(np.mean([v['spec'] for v in per.values()])), **{f'ba_{k}': round(v['ba'], 4) for k, v in per.items()}))
    s = pd.DataFrame(srows); s.to_csv(RES/'b2_shift_rules.csv', index=False, float_format='%.4f')
    old = pd.read_csv(RES/'levers.csv').set_index(['lever', 'seed'])
    rows = []
    for name in probs:
        info_f = OUT/name/'info.json'
        i = json.loads(info_f.read_text())
        fo = s[s.model == name].iloc[0]
        prev = old.val_auc.get((i['lever'], i['seed']), np.nan)
        rows.append(dict(lever=i['lever'], seed=i['seed'], size=i['config']['size'], val_auc=i['val_auc'], val_auc_first_session=prev,
                         val_nll=i['val_nll'], thr=fo.threshold, val_ba=fo.val_ba, shift_ba=fo.shift_ba, shift_spec=fo.shift_spec,
                         cpu_s=i['train_cpu_s']))
    d = pd.DataFrame(rows); d.to_csv(RES/'levers_b2.csv', index=False, float_format='%.4f')
    g = d.groupby('lever', sort=False).agg(n=('seed', 'size'), auc=('val_auc', 'mean'), auc_sd=('val_auc', lambda v: v.std(**SD)),
                                           shift_ba=('shift_ba', 'mean'), cpu=('cpu_s', 'mean'))
    best = g.auc.max(); tied = g[g.auc >= best - TIE - 1e-12].sort_values(['shift_ba', 'cpu'], ascending=[False, True])
    winner = tied.index[0]
    L = ['| lever | size | seeds | val AUC (mean ± SD) | first session (same seeds) | val NLL | threshold (clean rule) | val BA there | mean BA, 12 folder shifts | shifted spec | CPU s per seed (1 thread) |',
         '|---|---|---|---|---|---|---|---|---|---|---|']
    for lv, h in d.groupby('lever', sort=False):
        fs = f"{h.val_auc_first_session.mean():.4f}" if h.val_auc_first_session.notna().all() else 'not run'
        mark = ' **(chosen)**' if lv == winner else ' (tied, tie-break lost)' if lv in tied.index else ''
        L.append(f"| `{lv}`{mark} | {h['size'].iloc[0]} | {len(h)} | {h.val_auc.mean():.4f} ± {h.val_auc.std(**SD):.4f} | {fs} | {h.val_nll.mean():.3f} | "
                 f"{', '.join(f'{t:.2f}' for t in h.thr)} | {h.val_ba.mean():.4f} | {h.shift_ba.mean():.4f} | {h.shift_spec.mean():.3f} | {h.cpu_s.mean():.0f} |")
    verdict = (f"By the declared criterion: best mean validation AUC {best:.4f} (`{g.auc.idxmax()}`); within {TIE}: "
               + ', '.join(f"`{k}` ({v.auc:.4f}, shifted BA {v.shift_ba:.4f})" for k, v in tied.iterrows())
               + f"; the tie-break (mean balanced accuracy on the 12 folder shifts) goes to **`{winner}`**.")
    md = ('Part B criterion applied to the levers retrained in the second session (addendum B2): validation only, folder validation split of '
          'split seed 42 (746 images, 191 NORMAL), seeds 0 and 1, ± sample SD (ddof 1). "first session": the same lever and seeds trained '
          'in the first session (results/levers.csv; the retrained runs differ slightly: another CPU).\n\n' + '\n'.join(L) + '\n\n' + verdict + '\n')
    (RES/'levers_b2.md').write_text(md); print(md)

if __name__ == '__main__': main()

"""Issue 30: the tables of README.md from the results CSVs and the lever runs (validation numbers only).

    python benchmarks/folders/summarize.py   # writes benchmarks/folders/results/{rules_summary.md, levers.md, levers.csv}
"""
import json, glob
from pathlib import Path
import numpy as np, pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
RES = HERE/'results'
OUTF = ROOT/'benchmarks'/'out'/'folders'
SD = dict(ddof=1)   # one convention: sample standard deviation over seeds (ddof 1)

def f(x, n=3): return '' if pd.isna(x) else f'{x:.{n}f}'

def rules_md():
    L = []
    s = pd.read_csv(RES/'shift_rules.csv'); w = pd.read_csv(RES/'weightless_rules.csv'); a2 = pd.read_csv(RES/'a2_rules.csv')
    order = ['lowest', 'highest', 'mid_logit', 'mid_logit_tol', 'smooth0.5', 'smooth1', 'bagged']
    fo = s[s.shift_set == 'folder']; se = s[s.shift_set == 'search']
    L += ['## Part A, primary: mean balanced accuracy at the chosen threshold on the 12 folder shifts of validation', '',
          'One column per model with weights (validation images only); `mean` averages the models (weight 1 each); '
          '`vs lowest` is that mean minus today\'s rule\'s. Second set (7 shifts of `search.shifted_copies`) in the last column.', '']
    models = list(dict.fromkeys(fo.model))
    L += ['| rule | ' + ' | '.join(m.replace('reference/', 'shipped ') for m in models) + ' | mean | vs lowest | mean, search shifts |',
          '|---|' + '---|' * (len(models) + 3)]
    base = fo[fo.rule == 'lowest'].shift_ba.mean()
    for r in order:
        x = fo[fo.rule == r].set_index('model')
        L.append(f'| `{r}` | ' + ' | '.join(f"{x.loc[m, 'shift_ba']:.4f} (t {x.loc[m, 'threshold']:.2f})" for m in models) +
                 f" | {x.shift_ba.mean():.4f} | {x.shift_ba.mean() - base:+.4f} | {se[se.rule == r].shift_ba.mean():.4f} |")
    shipped = fo[fo.model.str.startswith('reference/')]
    L += ['', f"On the two shipped models alone: " + ', '.join(f"`{r}` {shipped[shipped.rule == r].shift_ba.mean():.4f}" for r in order) + '.', '']
    L += ['Tied candidates (best validation balanced accuracy, sensitivity >= 0.95) per model: ' +
          ', '.join(f"{m.replace('reference/', 'shipped ')} {int(fo[(fo.model == m) & (fo.rule == 'lowest')].tied.iloc[0])}" for m in models) +
          '. Mean shifted specificity / sensitivity at `lowest`: ' +
          f"{fo[fo.rule == 'lowest'].shift_spec.mean():.3f} / {fo[fo.rule == 'lowest'].shift_sens.mean():.3f}.", '']
    L += ['## Part A, secondary (weightless): the committed seed runs and the shipped models, from predictions.csv validation rows', '',
          f"{w.run.nunique()} runs. Means over runs: validation balanced accuracy, specificity at the chosen threshold, balanced "
          "accuracy with every validation logit offset by -1/-0.5/+0.5/+1 (mean, worst), SD of the chosen logit threshold over "
          "patient-grouped bootstrap resamples (200; `bagged` 40). Tied candidates per run: " +
          f"min {w[w.rule == 'lowest'].tied.min()}, median {w[w.rule == 'lowest'].tied.median():.0f}, max {w[w.rule == 'lowest'].tied.max()}; "
          f"validation sensitivity at `lowest`: min {w[w.rule == 'lowest'].val_sens.min():.3f}.", '',
          '| rule | val BA | val spec | offset BA mean | offset BA worst | bootstrap SD of logit threshold |', '|---|---|---|---|---|---|']
    g = w.groupby('rule')[['val_ba', 'val_spec', 'offset_ba_mean', 'offset_ba_min', 'boot_sd_logit']].mean()
    for r in order: L.append(f'| `{r}` | ' + ' | '.join(f'{v:.4f}' for v in g.loc[r]) + ' |')
    L += ['', '## Addendum A2: rules that choose with the 7 search shifts, scored on the 5 held-out folder shifts', '',
          '| rule | ' + ' | '.join(m.replace('reference/', 'shipped ') for m in models) + ' | mean held-out BA | vs lowest | mean clean val BA | mean held-out spec / sens |',
          '|---|' + '---|' * (len(models) + 4)]
    b2 = a2[a2.rule == 'lowest']
    for r in ['lowest', 'mid_logit', 'shift_ba', 'pooled_ba']:
        x = a2[a2.rule == r].set_index('model')
        L.append(f'| `{r}` | ' + ' | '.join(f"{x.loc[m, 'heldout_ba']:.4f} (t {x.loc[m, 'threshold']:.2f})" for m in models) +
                 f" | {x.heldout_ba.mean():.4f} | {x.heldout_ba.mean() - b2.heldout_ba.mean():+.4f} | {x.val_ba.mean():.4f} "
                 f"({x.val_ba.mean() - b2.val_ba.mean():+.4f}) | {x.heldout_spec.mean():.3f} / {x.heldout_sens.mean():.3f} |")
    (RES/'rules_summary.md').write_text('\n'.join(L) + '\n')
    return '\n'.join(L)

def levers_md():
    s = pd.read_csv(RES/'shift_rules.csv'); a2 = pd.read_csv(RES/'a2_rules.csv')
    rows = []
    for info in sorted(OUTF.glob('*/seed*/info.json')):
        i = json.loads(info.read_text()); name = f"{i['lever']}/seed{i['seed']}"
        fo = s[(s.model == name) & (s.shift_set == 'folder') & (s.rule == 'lowest')]
        h = a2[(a2.model == name) & (a2.rule == 'lowest')]
        rows.append(dict(lever=i['lever'], seed=i['seed'], val_auc=i['val_auc'], val_nll=i['val_nll'],
                         thr=fo.threshold.iloc[0] if len(fo) else np.nan, val_ba=fo.val_ba.iloc[0] if len(fo) else np.nan,
                         shift_ba=fo.shift_ba.iloc[0] if len(fo) else np.nan, shift_spec=fo.shift_spec.iloc[0] if len(fo) else np.nan,
                         heldout_ba=h.heldout_ba.iloc[0] if len(h) else np.nan, cpu_s=i['train_cpu_s'], wall_s=i['train_wall_s'],
                         n_train=i['n_train'], n_valid=i['n_valid']))
    d = pd.DataFrame(rows); d.to_csv(RES/'levers.csv', index=False, float_format='%.4f')
    L = ['| lever | seeds | val AUC (mean ± SD) | val NLL | threshold (`lowest`) | val BA there | mean BA, 12 folder shifts | shifted spec | CPU s / wall s per seed (training, 1 thread, niced) |',
         '|---|---|---|---|---|---|---|---|---|']
    for lv, g in d.groupby('lever', sort=False):
        sd = g.val_auc.std(**SD) if len(g) > 1 else np.nan
        L.append(f"| `{lv}` | {len(g)} | {g.val_auc.mean():.4f} ± {f(sd, 4)} | {g.val_nll.mean():.3f} | {', '.join(f'{t:.2f}' for t in g.thr)} | "
                 f"{g.val_ba.mean():.4f} | {g.shift_ba.mean():.4f} | {g.shift_spec.mean():.3f} | {g.cpu_s.mean():.0f} / {g.wall_s.mean():.0f} |")
    # the committed 64 px default, on ITS OWN validation split (split seed 0, the 64 px PNG copy): labelled, not comparable row-for-row
    ref = []
    for r in sorted(glob.glob(str(ROOT/'benchmarks/results/chest_xray_best_64px_v2_cpu/seed*'))):
        ref.append(json.loads(Path(r, 'metrics.json').read_text())['val']['auc'])
    L.append(f"| `chest_xray_best` 64 px, committed `chest_xray_best_64px_v2_cpu` (other validation split: split seed 0, 64 px PNG copy) | {len(ref)} | "
             f"{np.mean(ref):.4f} ± {np.std(ref, ddof=1):.4f} | | | | | | 845-935 CPU s per whole run (TIME.md) |")
    (RES/'levers.md').write_text('\n'.join(L) + '\n')
    return '\n'.join(L)

if __name__ == '__main__':
    print(rules_md()); print(); print(levers_md())

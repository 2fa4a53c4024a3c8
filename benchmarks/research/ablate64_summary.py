"""Issue 23, part 1: the table of the folder-pipeline ablation (`ablate64.py`), the winner by the rule declared in
`DECISIONS_issue23.md` (section 3), and, after it, how each validation diagnostic ranked the configurations against test.

    python benchmarks/research/ablate64_summary.py [--results benchmarks/research/ablate64/results.jsonl] > benchmarks/research/ABLATION64.md
"""
import argparse, json
import numpy as np, pandas as pd
from scipy.stats import spearmanr

ap = argparse.ArgumentParser(); ap.add_argument('--results', default='benchmarks/research/ablate64/results.jsonl'); a = ap.parse_args()
rows = [json.loads(l) for l in open(a.results)]
bad = [r for r in rows if 'error' in r]
if bad: raise SystemExit(f"{len(bad)} runs failed, e.g. {bad[0]['name']}: {bad[0]['error'][-300:]}")
df = pd.DataFrame([dict(config=r['name'], seed=r['seed'], train_s=r['train_s'], device=r['device'],
                        **{k: v for k, v in r['diag'].items() if k != 'per_shift_nll'}, **{'test_' + k: v for k, v in r['test'].items()})
                   for r in rows])
seeds = sorted(df.seed.unique())
g = df.groupby('config').mean(numeric_only=True).drop(columns='seed').sort_values('shift_nll')
n = df.groupby('config').size()
assert (n == len(seeds)).all(), f'configurations without all seeds: {n[n != len(seeds)].to_dict()}'
win = g.index[0]; base = g.loc['base', 'shift_nll']
f3 = lambda v: f'{v:.3f}'; f4 = lambda v: f'{v:.4f}'
print(f"""# The Kaggle folder pipeline at 64 px: an ablation judged on validation (issue 23, part 1)

Made by `python benchmarks/research/ablate64_summary.py` from `ablate64/results.jsonl`, written by
`benchmarks/research/ablate64.py` (levers, diagnostics and the winner rule were committed in `DECISIONS_issue23.md`,
section 3, before the first run). {len(g)} configurations x seeds {', '.join(map(str, seeds))}, each `chest_xray_best` as it
was before this ablation (now `chest_xray_v1`: 64 px, width 16, 1 block per stage, 6 epochs) with one lever changed,
all on one patient-level validation split of `chest_xray_64/train` (split seed 0: 4,471 train, 745 validation images).
Trained on the GPU machine this session was lent ({df.device.iloc[0]}, {df.train_s.mean():.0f} s per run on average); no choice depends
on where they ran. Means over the seeds.

## Validation diagnostics (the rule reads the first column only)

| configuration | shift_nll (criterion) | val_nll | val AUC | shift AUC | lung_share |
|---|---|---|---|---|---|""")
for c, r in g.iterrows():
    b = '**' if c == win else ''
    print(f"| {b}{c}{b} | {b}{f4(r.shift_nll)}{b} | {f4(r.val_nll)} | {f4(r.val_auc)} | {f4(r.shift_auc)} | {f3(r.lung_share)} |")
print(f"""
**Winner by the declared rule: `{win}`** (shift_nll {f4(g.loc[win, 'shift_nll'])} against `base`'s {f4(base)}). It became
`chest_xray_best` (`aug='xray_degrade'`, `blocks=2`) and the default of `pneumo_train --dataset folder`; the earlier
recipe stays as the preset `chest_xray_v1`.

Per-shift validation log-loss of `base` and of the winner (mean over seeds). The stated weakness: `degrade` trains on
down-up sampling, blur and JPEG, five of the twelve shifts.

| shift | base | {win} |
|---|---|---|""")
ps = {c: pd.DataFrame([r['diag']['per_shift_nll'] for r in rows if r['name'] == c]).mean() for c in ('base', win)}
for k in ps['base'].index: print(f"| {k} | {f3(ps['base'][k])} | {f3(ps[win][k])} |")
print(f"""
## After the choice: test, and how each diagnostic ranked the configurations

**These columns read test** (each run's read is a line of `ablate64/test_reads.jsonl`). They were computed after the
diagnostics and enter no rule; they are here to judge the diagnostics. The threshold is chosen on validation
(sensitivity >= 0.95, the widest balanced accuracy, sweep 0.01-0.99).

| configuration | test AUC | ACC at 0.5 | spec at 0.5 | val threshold | ACC at it | sens at it | spec at it |
|---|---|---|---|---|---|---|---|""")
for c, r in g.iterrows():
    print(f"| {c} | {f3(r.test_auc)} | {f3(r.test_acc05)} | {f3(r.test_spec05)} | {r.test_threshold:.2f} | {f3(r.test_acc_t)} | "
          f"{f3(r.test_sens_t)} | {f3(r.test_spec_t)} |")
print("""
Spearman rank correlation, over the configurations, between each validation diagnostic (signed so that higher means
"predicted better": minus the log-losses) and the test metric. **This comparison read test.**

| diagnostic | test AUC | test ACC at 0.5 | test ACC at the val threshold |
|---|---|---|---|""")
for d, sgn in (('shift_nll', -1), ('val_nll', -1), ('val_auc', 1), ('shift_auc', 1), ('lung_share', 1)):
    rho = [spearmanr(sgn * g[d], g[t]).statistic for t in ('test_auc', 'test_acc05', 'test_acc_t')]
    print(f"| {d} | " + ' | '.join(f'{v:+.2f}' for v in rho) + ' |')
print(f"""
Rank of the winner among the {len(g)} configurations by test AUC: {int(g.test_auc.rank(ascending=False)[win])}; by test ACC at the
validation threshold: {int(g.test_acc_t.rank(ascending=False)[win])}. The final numbers of the new `chest_xray_best` are those of
its three `pneumo_train` seeds on 2 CPU cores (`benchmarks/results/chest_xray_best_64px_v2/summary.md`), not these.""")

"""Tables of the label-budget study (benchmarks/site/PROTOCOL.md) from the committed rows of budget.py, and the coverage of
the shipped models' 95% intervals on random 64-image evaluation parts (from each model's recorded test predictions: no new read).

    python benchmarks/site/summarize.py      # writes benchmarks/site/results/budget.md, coverage.json, budget.png
Every number here is "adapted with K local labels" (or, for coverage, of the model as shipped).
"""
import json
from pathlib import Path
import numpy as np, pandas as pd
import matplotlib; matplotlib.use('Agg')
from pneumo_nb.runs import load_run
from pneumo_nb.data import patient_id
from pneumo_nb.metrics import md_table
from pneumo_nb.site import budget_table, plot_budget, site_split, wilson

HERE = Path(__file__).parent; RES = HERE/'results'
TARGETS = {'cx64_on_64': dict(model='chest-xray-64', auc=0.97, sens=0.95, spec=0.85),      # issue 36's targets (PROTOCOL.md)
           'pm28_on_64': dict(model='pneumoniamnist-28', auc=0.98, sens=0.95, spec=0.90),
           'pm28_on_224': dict(model='pneumoniamnist-28', auc=0.98, sens=0.95, spec=0.90)}

def own_test(name):
    "The shipped model on its own test copy, from its metrics.json: AUC / sensitivity / specificity at its threshold."
    m = load_run(name).metrics
    return f"{m['test']['auc']:.3f} / {m['test_at_threshold']['sensitivity']:.3f} / {m['test_at_threshold']['specificity']:.3f}"

def rows_of(combo): return [json.loads(l) for l in (RES/f'budget_{combo}.jsonl').read_text().splitlines()]

def coverage(name, n_parts=200, part=64):
    "Share of random 64-image evaluation parts whose 95% Wilson intervals of sensitivity and specificity (shipped threshold) cover the figures on all 624 test images."
    r = load_run(name); p = r.predictions; t = p[p.split == 'test'].reset_index(drop=True)
    items = pd.DataFrame(dict(item=t.item, label=t.label.astype(int), patient=[patient_id(i) if '/' in i and not i.split('/')[-1].isdigit() else i for i in t.item]))
    pr = t.prob_pneumonia.values >= r.threshold; y = items.label.values
    full = dict(sensitivity=float(pr[y == 1].mean()), specificity=float((~pr[y == 0]).mean()))
    cov = dict(sensitivity=0, specificity=0); sizes = []
    for s in range(n_parts):
        sp = site_split(items, len(items) - part, seed=s)
        e = (sp.part == 'eval').values; sizes.append(int(e.sum()))
        ye, pe = y[e], pr[e]
        lo, hi = wilson(int(pe[ye == 1].sum()), int((ye == 1).sum())); cov['sensitivity'] += lo <= full['sensitivity'] <= hi
        lo, hi = wilson(int((~pe[ye == 0]).sum()), int((ye == 0).sum())); cov['specificity'] += lo <= full['specificity'] <= hi
    return dict(model=name, threshold=r.threshold, full_624=full, parts=n_parts, part_sizes=[min(sizes), max(sizes)],
                coverage={k: v / n_parts for k, v in cov.items()}, source="the model's recorded test predictions (predictions.csv); no new read")

def main():
    combos = [c for c in TARGETS if (RES/f'budget_{c}.jsonl').exists()]
    tabs = {c: budget_table(rows_of(c)) for c in combos}
    lines = ['# The label budget of the local check: results', '',
             'Every number below is **adapted with K local labels** (the Kaggle test folder as the site; the evaluation part is the rest '
             'of its 624 images). Protocol: `PROTOCOL.md` (declared before the first run). Written by `summarize.py` from `results/budget_*.jsonl`.', '']
    tg = []
    for c in combos:
        t = tabs[c]; rows = rows_of(c)
        lines += [f'## {c}', '', f"{len(rows)} instances (K x seed) done; mean (SD) over seeds; `harmless_seeds`: seeds where the level's evaluation AUC is at most 0.005 below the shipped model's.", '']
        show = t.copy()
        for m in ('auc', 'sensitivity', 'specificity'): show[m] = [f'{a:.3f} ({b:.3f})' for a, b in zip(t[f'{m}_mean'], t[f'{m}_sd'].fillna(0))]
        show['auc_gain'] = t.auc_gain_mean.round(4)
        lines += [md_table(show[['k', 'level', 'seeds', 'auc', 'sensitivity', 'specificity', 'auc_gain', 'harmless_seeds']], index=False), '']
        picks = pd.DataFrame([dict(k=r['k'], seed=r['seed'], picked=r['picked']) for r in rows]).pivot_table(index='k', columns='picked', aggfunc='size', fill_value=0)
        lines += ['Levels the rule picked (count of seeds):', '', md_table(picks.reset_index(), index=False), '']
        g = t[(t.k == 128)].set_index('level')
        if 'finetune' in g.index:
            T = TARGETS[c]; f = g.loc['finetune']
            def verdict(v, t): return f"{v:.3f} (target {t}, " + ('met)' if v >= t else f"missed by {t - v:.3f})")
            sh = g.loc['shipped']
            tg.append(dict(combination=c, seeds=int(f.seeds), shipped_on_its_own_test=own_test(T['model']),
                           shipped_on_this_evaluation_part=f'{sh.auc_mean:.3f} / {sh.sensitivity_mean:.3f} / {sh.specificity_mean:.3f}', finetune_auc=verdict(f.auc_mean, T['auc']),
                           finetune_sens=verdict(f.sensitivity_mean, T['sens']), finetune_spec=verdict(f.specificity_mean, T['spec']),
                           picked_auc_gain=f"{g.loc['picked'].auc_gain_mean:+.4f}, harmless in {int(g.loc['picked'].harmless_seeds)} of {int(g.loc['picked'].seeds)} seeds"))
    if tg: lines += ['## Targets at K = 128 (mean over seeds, evaluation part)', '', md_table(pd.DataFrame(tg), index=False), '']
    reads = []
    for c in combos:   # every evaluation-part read is in the ledger; an instance stopped after its read has no row, and is said here
        led = pd.read_json(RES/'test_reads'/c/'test_reads.jsonl', lines=True)
        reads.append(dict(combination=c, reads_in_ledger=len(led), instances_reported=len(rows_of(c)), read_but_not_reported=len(led) - len(rows_of(c))))
    lines += ['## Reads of the evaluation parts', '', md_table(pd.DataFrame(reads), index=False), '',
              'An instance stopped (the study was cut short by the session\'s time) after its evaluation part was read has no row: it is counted '
              'here and its numbers were never looked at.', '']
    cov = [coverage(n) for n in ('chest-xray-64', 'pneumoniamnist-28')]
    (RES/'coverage.json').write_text(json.dumps(cov, indent=1))
    lines += ['## Intervals that hold (the models as shipped, 200 random evaluation parts of 64 images)', '',
              md_table(pd.DataFrame([dict(model=c['model'], threshold=c['threshold'], sens_624=round(c['full_624']['sensitivity'], 3), spec_624=round(c['full_624']['specificity'], 3),
                                          coverage_sens=c['coverage']['sensitivity'], coverage_spec=c['coverage']['specificity'], target='>= 0.90') for c in cov]), index=False), '',
              'From each model\'s recorded test predictions (no new read); `pneumoniamnist-28` on its own 28 px test copy of the same 624 images.', '']
    (RES/'budget.md').write_text('\n'.join(lines))
    fig = plot_budget({c: tabs[c] for c in combos}, 'Kaggle test folder as the site (adapted with K local labels)')
    fig.savefig(RES/'budget.png', dpi=72)
    print('\n'.join(lines))

if __name__ == '__main__': main()

"""Issue 23 part 2: transductive rows (BatchNorm statistics and/or class prior adapted to the unlabeled test images) beside
the inductive row, for the shipped reference models and the three Kaggle 64 px seed runs.

    PNEUMO_DATA=../shared/data python benchmarks/adapt/adapt_rows.py [--models pneumoniamnist-28 chest-xray-64 ...] [--threads 2]

The seed runs' weights are not committed (benchmarks/seeds/chest_xray_v1_64px keeps their records, splits and predictions); they are
retrained first, deterministically, with the recorded commands into benchmarks/out/adapt/runs/seed{S}:

    pneumo_train --dataset folder --data ../shared/data/chest_xray_64 --size 64 --preset chest_xray_best --seed S \
                 --out benchmarks/out/adapt/runs/seedS

(each retrain reads test once, in its own ledger). A retrain on this shared machine did not reproduce the committed
probabilities bit for bit (same configuration and split; the largest difference is recorded as retrain_max_prob_diff), so
each seed's inductive row is the retrained model's own, and its transductive gains are measured against that row.

THESE ROWS READ TEST. Each row is one `pneumo_nb.runs.evaluate_run(run, adapt=...)`: the test images are scored through
`score_test`, and each read is recorded in the ledger (`test_reads.jsonl`) of its evaluation folder,
benchmarks/out/adapt/<model>/<mode>/ (ignored by git, not committed; the shipped and committed seed run folders are not
modified; the inductive row of a retrained seed run is recorded in that copy's own ledger).
Every row but `inductive` is TRANSDUCTIVE: unlabeled target (test) images used. Nothing here chooses anything: the
threshold is each run's own, chosen on its validation split at training time.
The summary goes to benchmarks/adapt/NAME.md and NAME.json.
"""
import argparse, json, time, datetime
from pathlib import Path
import numpy as np, pandas as pd

HERE = Path(__file__).resolve().parent
MODES = (None, 'bn', 'prior', 'bn+prior')
SEEDS = [f'chest_xray_v1_64px/seed{s}' for s in (0, 1, 2)]
COLS = [('test', 'auc', 'AUC'), ('test', 'accuracy', 'ACC@0.5'), ('test', 'sensitivity', 'sens@0.5'), ('test', 'specificity', 'spec@0.5'),
        ('test_at_threshold', 'accuracy', 'ACC@thr'), ('test_at_threshold', 'sensitivity', 'sens@thr'),
        ('test_at_threshold', 'specificity', 'spec@thr')]
LABEL = 'transductive: unlabeled target images used'

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--models', nargs='+', default=['pneumoniamnist-28', 'chest-xray-64'] + SEEDS,
                    help='reference model names, or run folders under benchmarks/seeds')
    ap.add_argument('--threads', type=int, default=2); ap.add_argument('--n_boot', type=int, default=1000)
    ap.add_argument('--name', default='references_and_chest_xray_v1', help='output name under benchmarks/adapt/ (.md and .json)')
    ap.add_argument('--redo', action='store_true', help='evaluate again even where the evaluation folder exists (test is read again)')
    a = ap.parse_args()
    import torch; torch.set_num_threads(a.threads)
    from pneumo_nb.runs import evaluate_run, REFERENCES
    print('These rows READ TEST: each evaluation is scored through score_test and recorded in the ledger '
          '(test_reads.jsonl) of its evaluation folder under benchmarks/out/adapt/. Rows other than "inductive" are '
          f'{LABEL}.')
    rows, missing = [], []
    for name in a.models:
        run, same = name if name in REFERENCES else HERE.parent/'seeds'/name, None
        if name in SEEDS:   # the retrained copy, checked against the committed predictions
            run = HERE.parent/'out'/'adapt'/'runs'/Path(name).name
            if not (run/'model.pth').is_file():
                print(f'{run} has no model.pth: retrain it first (see the docstring); its rows are left out'); missing.append(name); continue
            a_, b_ = (pd.read_csv(f/'predictions.csv') for f in (run, HERE.parent/'seeds'/name))
            same = float(np.abs(a_.prob_pneumonia.values - b_.prob_pneumonia.values).max()) if len(a_) == len(b_) and (a_.item.values == b_.item.values).all() else None
            print(f'{run}: largest difference from the committed {name}/predictions.csv: {same}')
        for mode in MODES:
            out = HERE.parent/'out'/'adapt'/name.replace('/', '_')/(mode or 'inductive').replace('+', '_')
            t0 = time.perf_counter()
            if a.redo or not (out/'metrics.json').is_file():   # an existing evaluation is reused: its test split was read already
                evaluate_run(run, out=out, overwrite=True, figures=False, n_boot=a.n_boot, device='cpu', progress='quiet', adapt=mode)
            m = json.loads((out/'metrics.json').read_text())
            reads = [json.loads(l) for l in (out/'test_reads.jsonl').read_text().splitlines()] if (out/'test_reads.jsonl').is_file() else []
            y = pd.read_csv(out/'predictions.csv').label.values
            pr = (m.get('adapted') or {}).get('prior') or {}
            row = dict(model=name, rows=LABEL if mode else 'inductive', adapt=mode or 'none', threshold=m['threshold'],
                       **{c: m[k][key] for k, key, c in COLS}, n_test=len(y), true_prior=float(y.mean()),
                       em_prior=pr.get('estimate'), em_ci95=pr.get('ci95'), source_prior=pr.get('source_prior'),
                       test_reads_in_eval_folder=len(reads), retrain_max_prob_diff=same, seconds=round(time.perf_counter() - t0, 1))
            rows.append(row)
            print({k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()}, flush=True)
    df = pd.DataFrame(rows)
    metric_cols = [c for _, _, c in COLS]
    for c in metric_cols:   # gain of each row over the same model's inductive row
        df[f'gain_{c}'] = df[c] - df.groupby('model')[c].transform(lambda s: s.iloc[0])
    seeds = df[df.model.isin(SEEDS) | ~df.model.isin(list(REFERENCES))]   # the seed runs measured (not the shipped models)
    mean = seeds.groupby('adapt', sort=False)[metric_cols + [f'gain_{c}' for c in metric_cols] + ['em_prior']].mean().reset_index()
    mean.insert(0, 'model', f'chest_xray_best 64 px, mean of {plural_seeds(seeds)}')
    mean.insert(1, 'rows', np.where(mean.adapt == 'none', 'inductive', LABEL))
    out = HERE
    created = datetime.datetime.now().isoformat(timespec='seconds')
    (out/f'{a.name}.json').write_text(json.dumps(dict(
        created=created, note='These rows read test (each read recorded in its evaluation folder\'s ledger, '
        'benchmarks/out/adapt/<model>/<mode>/test_reads.jsonl). Rows with adapt != none are ' + LABEL + '.',
        not_measured=missing, rows=json.loads(df.to_json(orient='records')), mean_of_seeds=json.loads(mean.to_json(orient='records'))), indent=1))
    md = ['# Transductive rows (issue 23 part 2)', '', f'Written by `benchmarks/adapt/adapt_rows.py` on {created}.', '',
          '**These rows read test**: each is one `evaluate_run(run, adapt=...)`, scored through `score_test` and recorded in '
          'the ledger of its evaluation folder (`benchmarks/out/adapt/<model>/<mode>/test_reads.jsonl`, not committed). '
          f'Every row whose adapt is not `none` is **{LABEL}** (the 624 test images, without their labels, for the '
          'BatchNorm statistics and/or the EM prior estimate); it is not an inductive result. Thresholds are each run\'s own, '
          'chosen on its validation split; gains are over the same model\'s inductive row. '
          + ('The seed runs were retrained with their recorded commands (their weights are not committed); '
          'they did not reproduce the committed probabilities bit for bit (`retrain_max_prob_diff` '
          'in adapt_rows.json is the largest difference), so each seed\'s inductive row is the retrained model\'s own. '
             if df.model.isin(SEEDS).any() else 'The runs were evaluated with their own weights (kept in their run folders). ') +
          '`true_prior` is the test split\'s share of PNEUMONIA (from its labels, for comparison with the EM '
          'estimate only).', '',
          *([f'Not measured (no retrained weights when this ran): {", ".join(missing)}.', ''] if missing else []),
          f'## Mean of the seed runs: {", ".join(sorted(set(seeds.model))) or "none measured"}', '']
    md += table_md(mean, metric_cols)
    md += ['', '## Every row', ''] + table_md(df, metric_cols, extra=['true_prior', 'em_ci95'])
    (out/f'{a.name}.md').write_text('\n'.join(md) + '\n')
    print(f'Wrote {out/a.name}.md and .json.')

def plural_seeds(seeds): n = seeds.model.nunique(); return f'{n} seed' + ('s' if n != 1 else '')

def _fmt(v):
    if v is None or (isinstance(v, float) and np.isnan(v)): return ''
    if isinstance(v, (list, tuple)): return '[' + ', '.join(f'{x:.3f}' for x in v) + ']'
    if isinstance(v, (float, np.floating)): return f'{v:.3f}'
    return str(v)

def table_md(d, metric_cols, extra=()):
    cols = ['model', 'adapt', 'rows'] + metric_cols + ['gain_AUC', 'gain_ACC@0.5', 'gain_ACC@thr', 'em_prior', *extra]
    lines = ['| ' + ' | '.join(cols) + ' |', '|' + '---|' * len(cols)]
    for _, r in d.iterrows():
        lines.append('| ' + ' | '.join(_fmt(r[c]) if not c.startswith('gain') else (f'{r[c]:+.3f}' if r['adapt'] != 'none' else '')
                                       for c in cols) + ' |')
    return lines

if __name__ == '__main__':
    main()

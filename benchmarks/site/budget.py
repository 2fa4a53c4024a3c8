"""The label budget of the local check (issue 36; benchmarks/site/PROTOCOL.md, declared before this script first ran).

For one combination of shipped model and site folder, for every K and seed: the site split, every level fitted on the
adaptation part only (`pneumo_nb.site.fit_levels`, the code `pneumo_site` runs), the declared rule's pick, and each level
scored once on the evaluation part (`site_metrics`), the read recorded in results/test_reads/<combo>/test_reads.jsonl.
Rows go to results/budget_<combo>.jsonl (an instance already there is skipped: a rerun never reads it again), per-image
probabilities to results/probs/<combo>_K<K>_s<seed>.csv.gz. Numbers are "adapted with K local labels".

    PNEUMO_DATA=../shared/data python benchmarks/site/budget.py --combo cx64_on_64 [--ks 16 32 64 128 256] [--seeds 0 1 2 3 4]
"""
import argparse, json, time, datetime
from pathlib import Path
import numpy as np, pandas as pd, torch
from pneumo_nb.core import find_data
from pneumo_nb.runs import load_run, _ood_detectors
from pneumo_nb.ood import read_files_checked, predict_with_ood
from pneumo_nb.runfolder import log_test_read
from pneumo_nb.site import site_items, site_split, fit_levels, site_metrics, LOCAL_LABELS

COMBOS = {'cx64_on_64': ('chest-xray-64', 'chest_xray_64/test'), 'pm28_on_64': ('pneumoniamnist-28', 'chest_xray_64/test'),
          'pm28_on_224': ('pneumoniamnist-28', 'chest_xray_224/test')}
HERE = Path(__file__).parent

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--combo', required=True, choices=list(COMBOS))
    ap.add_argument('--ks', type=int, nargs='+', default=[16, 32, 64, 128, 256])
    ap.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2, 3, 4])
    ap.add_argument('--out', default=str(HERE/'results'))
    a = ap.parse_args()
    torch.set_num_threads(1)
    out = Path(a.out); (out/'probs').mkdir(parents=True, exist_ok=True)
    rows_f, ledger = out/f'budget_{a.combo}.jsonl', out/'test_reads'/a.combo
    ledger.mkdir(parents=True, exist_ok=True)
    done = {(d['k'], d['seed']) for d in map(json.loads, rows_f.read_text().splitlines())} if rows_f.exists() else set()
    name, folder = COMBOS[a.combo]
    r = load_run(name)
    items = site_items(find_data(folder))
    x, ok, skipped, notes = read_files_checked(items.path, r.raw, 2)
    kept = items.set_index('path', drop=False).loc[ok].reset_index(drop=True)
    dets, _ = _ood_detectors(name, r.model, 'torch')
    _, s = predict_with_ood(r.model, x, r.batch, dets)
    flagged = np.array([n is not None for n in notes]) | (s > 1)
    print(f'{a.combo}: {len(kept)} images ({len(skipped)} skipped), {int(flagged.sum())} flagged out of distribution', flush=True)
    for k in a.ks:
        for seed in a.seeds:
            if (k, seed) in done: continue
            t0 = time.time()
            sp = site_split(kept, k, seed)
            res = fit_levels(r, x, sp, seed, True, flagged)
            E = res['eval_index']; pats = sp.patient.values[E]; yE = res['y_eval']
            label = LOCAL_LABELS.format(k=res['n_adapt'])
            log_test_read(ledger, 'benchmarks/site/budget.py', f'K={k} seed={seed}: the evaluation part scored by {len(res["levels"])} levels ({label})', len(E))
            mets = {lv: site_metrics(yE, v['p_eval'], v['threshold'], pats, 1000, seed) for lv, v in res['levels'].items()}
            pd.DataFrame(dict(item=sp.item.values[E], patient=pats, label=yE, **{f'p_{lv}': np.round(v['p_eval'], 6) for lv, v in res['levels'].items()})
                         ).to_csv(out/'probs'/f'{a.combo}_K{k}_s{seed}.csv.gz', index=False)
            row = dict(combo=a.combo, model=name, folder=folder, k=k, seed=seed, n_adapt=res['n_adapt'], n_eval=len(E), n_excluded=res['n_excluded'],
                       n_flagged=int(flagged.sum()), adapted=label, picked=res['picked'],
                       rule_table=res['rule']['table'].round(6).to_dict('records'),
                       levels={lv: dict(threshold=float(v['threshold']), fitted=v['fitted'], **({'platt': list(v['platt'])} if 'platt' in v else {})) for lv, v in res['levels'].items()},
                       metrics=mets, fine_tune_seconds=[round(t, 2) for t in res['fine_tune_seconds']], seconds=round(time.time() - t0, 1),
                       split_rows=int(len(sp)), created=datetime.datetime.now().isoformat(timespec='seconds'))
            with open(rows_f, 'a') as f: f.write(json.dumps(row) + '\n')
            m = mets[res['picked']]
            print(f"{a.combo} K={k} seed={seed}: picked {res['picked']}; eval AUC {m['auc']['value']:.3f} (shipped {mets['shipped']['auc']['value']:.3f}), "
                  f"finetune AUC {mets['finetune']['auc']['value']:.3f}; {row['seconds']:.0f} s", flush=True)

if __name__ == '__main__': main()

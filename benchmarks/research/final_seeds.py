"""Issue 12 step C/4: train the configuration chosen by the Optuna search with seeds 0, 1, 2 and score each on test ONCE.

The configuration comes from the stored study (`best_config`), which was chosen on the frozen validation criterion
(CRITERION.json) without any test metric. Each seed goes through the run pipeline (`pneumo_nb.runs.train_and_report`):
train on PneumoniaMNIST `train`, threshold chosen on `val` (best balanced accuracy with sensitivity >= 0.95), test read
once and recorded in the run folder's ledger (runs/search_best_seed<S>/test_reads.jsonl); the metrics are copied to
benchmarks/results/search_best_seed<S>.json. A seed whose JSON exists is not run again.

    python final_seeds.py --seeds 0 1 2 [--study pmnist28] [--folder search]
"""
import os, sys, json, time, argparse, datetime
from pathlib import Path
import numpy as np, torch

HERE = Path(__file__).resolve().parent
RESULTS = HERE.parent/'results'

def main(seeds, study_name='pmnist28', folder=HERE/'search', threads=1):
    torch.set_num_threads(threads)
    import optuna
    from pneumo_nb.search import open_storage, best_config
    from pneumo_nb.runs import train_and_report
    from pneumo_nb.core import DISCLAIMER
    study = optuna.load_study(study_name=study_name, storage=open_storage(None, Path(folder)/study_name))
    cfg0, crit = best_config(study), study.user_attrs['criterion']
    for s in seeds:
        out = RESULTS/f'search_best_seed{s}.json'
        if out.exists(): print(f'{out} exists: test was already read for seed {s}; not reading it again'); continue
        run = HERE/'runs'/f'search_best_seed{s}'
        t0, c0 = time.time(), time.process_time()
        # the run pipeline: train on train, threshold on val, ONE test read recorded in run/test_reads.jsonl
        train_and_report({**cfg0, 'seed': s}, out=run, progress='quiet', n_boot=2000, figures=False)
        secs, cpu = time.time() - t0, time.process_time() - c0
        m, rec = json.loads((run/'metrics.json').read_text()), json.loads((run/'run.json').read_text())
        reads = [json.loads(l) for l in (run/'test_reads.jsonl').read_text().splitlines() if l.strip()]
        out_rec = dict(
            what='PneumoniaMNIST 28 px, configuration chosen by an Optuna search on a frozen validation criterion; '
                 'test read once for this seed (run folder ledger)',
            study=study_name, criterion=crit, criterion_frozen_in='benchmarks/research/CRITERION.json',
            best_trial=study.best_trial.number, best_trial_value=study.best_value, n_trials=len(study.trials), seed=s,
            config=rec['config'], run_folder=str(run.relative_to(HERE.parent.parent)), test_reads=reads, metrics=m,
            train_seconds=rec['train_seconds'], wall_seconds_total=round(secs, 1), cpu_seconds_total=round(cpu, 1), threads=threads,
            time_note='wall clock on a 2-core machine shared by 4 agents (load 6-11); cpu_seconds_total is the CPU time of '
                      'this 1-thread process (data, training, scoring, 2000 bootstrap resamples), about the wall clock on one idle core',
            created=datetime.datetime.now().isoformat(timespec='seconds'), disclaimer=DISCLAIMER)
        RESULTS.mkdir(exist_ok=True)
        out.write_text(json.dumps(out_rec, indent=1))
        t, tt = m['test'], m['test_at_threshold']
        print(f"seed {s}: {secs:.0f}s wall {cpu:.0f}s cpu | val AUC {m['val']['auc']:.4f} thr {m['threshold']:.2f} | test AUC {t['auc']:.4f} "
              f"ACC@0.5 {t['accuracy']:.4f} ACC@thr {tt['accuracy']:.4f} sens/spec@0.5 {t['sensitivity']:.3f}/{t['specificity']:.3f}", flush=True)

def summary(seeds=(0, 1, 2)):
    "Mean and std (population) over the seeds' JSON files; writes benchmarks/results/search_best_summary.json and prints Markdown."
    recs = [json.loads((RESULTS/f'search_best_seed{s}.json').read_text()) for s in seeds]
    rows = {'val AUC': [r['metrics']['val']['auc'] for r in recs], 'val-chosen threshold': [r['metrics']['threshold'] for r in recs]}
    for key, at in (('test', 'at 0.5'), ('test_at_threshold', 'at the val threshold')):
        for k in ('auc', 'accuracy', 'sensitivity', 'specificity', 'balanced_accuracy'):
            if key == 'test_at_threshold' and k == 'auc': continue
            rows[f'test {k} {at}' if k != 'auc' else 'test AUC'] = [r['metrics'][key][k] for r in recs]
    rows['train seconds (wall, loaded machine)'] = [r['train_seconds'] for r in recs]
    rows['CPU seconds per seed, whole run (1 thread)'] = [r['cpu_seconds_total'] for r in recs]
    out = {k: dict(mean=float(np.mean(v)), std=float(np.std(v)), values=v) for k, v in rows.items()}
    out.update(config=recs[0]['config'], criterion=recs[0]['criterion'], seeds=list(seeds),
               ci95_per_seed={r['seed']: r['metrics']['ci95'] for r in recs})
    (RESULTS/'search_best_summary.json').write_text(json.dumps(out, indent=1))
    print('| quantity | mean ± std (seeds ' + ', '.join(map(str, seeds)) + ') | per seed |'); print('|---|---|---|')
    for k, v in rows.items(): print(f"| {k} | {np.mean(v):.4f} ± {np.std(v):.4f} | {', '.join(f'{x:.4f}' for x in v)} |")

if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    ap.add_argument('--study', default='pmnist28'); ap.add_argument('--folder', default=str(HERE/'search'))
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--summary', action='store_true', help='only summarise the existing JSON files')
    a = ap.parse_args()
    if not a.summary: main(a.seeds, a.study, a.folder, a.threads)
    summary(a.seeds)

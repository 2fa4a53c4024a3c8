"""Quality benchmark of a preset on the official PneumoniaMNIST 28 px test split (issue 8).

Trains `pneumo_train --preset PRESET` (through `pneumo_nb.runs.train_and_report`) for seeds 0, 1, 2, reads each run's
metrics.json, and prints the mean and std of the test AUC and of the test accuracy at 0.5, plus the wall time per seed.
Everything (threshold, epochs, augmentation) is chosen on train/validation; test is only reported.

    PNEUMO_DATA=../shared/data python benchmarks/quality.py [--preset best] [--seeds 0 1 2] [--out benchmarks/results]
"""
import argparse, json, tempfile, time
from pathlib import Path
import numpy as np

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--preset', default='best'); ap.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    ap.add_argument('--out', default=str(Path(__file__).parent/'results'))
    a = ap.parse_args()
    import torch
    from pneumo_nb.runs import train_and_report
    from pneumo_nb.core import versions
    rows = []
    with tempfile.TemporaryDirectory() as d:
        for s in a.seeds:
            t0 = time.perf_counter()
            run = train_and_report(a.preset, Path(d)/f'seed{s}', figures=False, progress='quiet', seed=s)
            dt = time.perf_counter() - t0
            m = json.loads((run/'metrics.json').read_text())
            row = dict(seed=s, seconds=round(dt, 1), test_auc=m['test']['auc'], test_acc=m['test']['accuracy'],
                       test_sens=m['test']['sensitivity'], test_spec=m['test']['specificity'],
                       val_auc=m['val']['auc'], val_acc=m['val']['accuracy'], threshold=m['threshold'],
                       test_acc_at_threshold=m['test_at_threshold']['accuracy'])
            rows.append(row); print(json.dumps(row))
    k = lambda key: np.array([r[key] for r in rows])
    summary = dict(preset=a.preset, seeds=a.seeds, torch_threads=torch.get_num_threads(),
                   test_auc_mean=k('test_auc').mean(), test_auc_std=k('test_auc').std(ddof=1) if len(rows) > 1 else 0.,
                   test_acc_mean=k('test_acc').mean(), test_acc_std=k('test_acc').std(ddof=1) if len(rows) > 1 else 0.,
                   test_sens_mean=k('test_sens').mean(), test_spec_mean=k('test_spec').mean(),
                   val_auc_mean=k('val_auc').mean(), seconds_per_seed_mean=k('seconds').mean(), seconds_per_seed_max=k('seconds').max(),
                   runs=rows, versions=versions())
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    (out/f'quality_{a.preset}.json').write_text(json.dumps(summary, indent=2, default=float))
    print(f"preset {a.preset}: test AUC {summary['test_auc_mean']:.4f} ± {summary['test_auc_std']:.4f}, "
          f"test ACC@0.5 {summary['test_acc_mean']:.4f} ± {summary['test_acc_std']:.4f}, "
          f"{summary['seconds_per_seed_mean']:.0f} s per seed (max {summary['seconds_per_seed_max']:.0f} s)")

if __name__ == '__main__': main()

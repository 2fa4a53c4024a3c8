"""Issue 12 step C: the real Optuna search on PneumoniaMNIST 28 px with the frozen criterion (CRITERION.json).

    python search_run.py [--trials 10] [--workers 2] [--timeout 1500]
The study is stored in search/pmnist28/ (journal file + one trial.json per trial); rerunning resumes it.
"""
import json, argparse
from pathlib import Path
HERE = Path(__file__).resolve().parent

if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('--trials', type=int, default=10); ap.add_argument('--workers', type=int, default=2)
    ap.add_argument('--timeout', type=float, default=None, help='seconds per worker')
    a = ap.parse_args()
    from pneumo_nb.search import run_search, best_config, trials_df, DEFAULT_CRITERION
    crit = json.loads((HERE/'CRITERION.json').read_text())['criterion']
    assert crit == DEFAULT_CRITERION, (crit, DEFAULT_CRITERION)
    st = run_search('best', crit, n_trials=a.trials, timeout=a.timeout, study_name='pmnist28', out=HERE/'search', workers=a.workers)
    df = trials_df(st)
    print(df.drop(columns=[c for c in df.columns if c.startswith('datetime')], errors='ignore').to_string())
    print('BEST', json.dumps(best_config(st)))

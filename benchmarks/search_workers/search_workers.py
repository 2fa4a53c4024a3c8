"""Issue 24: search throughput on this machine, 1 worker process with 2 torch threads against 2 worker processes with 1
thread each, measured one after the other in one run of this script (same space, same data, same number of trials).

    PNEUMO_DATA=../shared/data python benchmarks/search_workers/search_workers.py [--trials 8] [--train_subset 2000] [--space tiny]

Each set-up runs `pneumo_nb.search.run_search` in a fresh Python process on a fresh SQLite study (the RDB storage with
heartbeats of `open_storage`), from process start to the last finished trial; trials/hour = finished or pruned trials
/ wall seconds * 3600. The machine is shared, so other load shifts both numbers; the two set-ups run back to back to
share it. Results: benchmarks/search_workers/search_workers.json and .md.
"""
import argparse, json, os, subprocess, sys, tempfile, time, datetime, platform
from pathlib import Path

HERE = Path(__file__).resolve().parent
CODE = """import sys, json
from pneumo_nb.search import run_search
a = json.loads(sys.argv[1])
st = run_search(a['space'], 'val_nll', n_trials=a['trials'], storage=a['storage'], study_name='bench', out=a['out'],
                train_subset=a['train_subset'], workers=a['workers'], threads=a['threads'])
print(json.dumps(dict(states=[t.state.name for t in st.trials], seconds=[t.user_attrs.get('seconds') for t in st.trials])))
"""

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--trials', type=int, default=8); ap.add_argument('--train_subset', type=int, default=2000)
    ap.add_argument('--space', default='tiny')
    a = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as d:
        for workers, threads in ((1, 2), (2, 1)):
            out = Path(d)/f'w{workers}t{threads}'
            args = dict(space=a.space, trials=a.trials, storage=f"sqlite:///{out/'study.db'}", out=str(out),
                        train_subset=a.train_subset, workers=workers, threads=threads)
            out.mkdir()
            t0 = time.perf_counter()
            r = subprocess.run([sys.executable, '-c', CODE, json.dumps(args)], capture_output=True, text=True)
            wall = time.perf_counter() - t0
            if r.returncode != 0: sys.exit(f"set-up {workers}x{threads} failed:\n{r.stderr[-3000:]}")
            res = json.loads(r.stdout.strip().splitlines()[-1])
            done = sum(s in ('COMPLETE', 'PRUNED') for s in res['states'])
            rows.append(dict(workers=workers, threads_per_worker=threads, trials_done=done, trials_total=len(res['states']),
                             wall_seconds=round(wall, 1), trials_per_hour=round(done / wall * 3600, 1),
                             mean_train_seconds=round(sum(s for s in res['seconds'] if s) / max(1, sum(1 for s in res['seconds'] if s)), 2)))
            print(rows[-1], flush=True)
    summary = dict(issue=24, created=datetime.datetime.now().isoformat(timespec='seconds'), cpus=os.cpu_count(),
                   python=platform.python_version(), space=a.space, trials=a.trials, train_subset=a.train_subset,
                   command=' '.join(['python', 'benchmarks/search_workers/search_workers.py', '--trials', str(a.trials), '--train_subset',
                                     str(a.train_subset), '--space', a.space]), rows=rows,
                   ratio_2x1_over_1x2=round(rows[1]['trials_per_hour'] / rows[0]['trials_per_hour'], 3))
    res = HERE
    (res/'search_workers.json').write_text(json.dumps(summary, indent=1) + '\n')
    md = [f"# Search throughput: 1 worker x 2 threads vs 2 workers x 1 thread ({summary['created']}, {summary['cpus']} CPUs, shared machine)", '',
          f"`{summary['command']}`: space `{a.space}`, {a.trials} trials per set-up on {a.train_subset} training images, fresh SQLite study each.", '',
          '| workers | threads each | trials done | wall s | trials/hour | mean train s per trial |', '|---|---|---|---|---|---|']
    md += [f"| {r['workers']} | {r['threads_per_worker']} | {r['trials_done']} | {r['wall_seconds']} | {r['trials_per_hour']} | {r['mean_train_seconds']} |" for r in rows]
    md += ['', f"2 workers x 1 thread / 1 worker x 2 threads: {summary['ratio_2x1_over_1x2']}x the trials per hour."]
    (res/'search_workers.md').write_text('\n'.join(md) + '\n')
    print('\n'.join(md))

if __name__ == '__main__': main()

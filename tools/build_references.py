"""Build the reference models that ship inside the package (`pneumo_nb/reference/<name>/`), exactly as they ship.

    python tools/build_references.py [--data ../shared/data] [--names pneumoniamnist-28 chest-xray-64] [--retrain]
    python tools/build_references.py --ood [--names ...]   # only add the out-of-distribution detector to the shipped folders
    python tools/build_references.py --rethreshold [--names ...]   # only bring the shipped folders up to the current threshold rule
    python tools/build_references.py --cards [--names ...]   # only record the reads made elsewhere and rewrite the cards (no training, no test read)

For each name of `pneumo_nb.runs.REFERENCES`:
1. train it with its `pneumo_train` command (one CPU thread, `OMP_NUM_THREADS=1`) into `benchmarks/out/reference/<name>/`, a full run
   folder (threshold chosen on validation, the test split read once and recorded in its ledger); an existing complete run there is
   reused (its test split was read already) unless `--retrain`; a reused run whose threshold the current rule
   (`pneumo_nb.metrics.choose_threshold`) would choose differently on its validation split is brought up to date first
   (`rethreshold`): its test split is scored again through `score_test` (one more line in its ledger) and `metrics.json`
   and the threshold in `run.json` are recomputed; a run whose threshold does not change only gets the rule's new wording;
2. copy what ships (`run.json`, `split.csv`, `model.pth`, `predictions.csv`, `metrics.json`, `history.csv`, `test_reads.jsonl`; no
   figures) into `pneumo_nb/reference/<name>/`, atomically, with a portable record: the data source is the dataset, its folder relative
   to the data root and its checksum, never a folder of this machine; the weights' SHA-256, the command, the package version and the
   commit are added under `reference`;
   and the out-of-distribution detector `ood.npz` (`pneumo_nb.runs.add_ood` fits it on the run's recorded split when the run
   predates it; recorded under `ood` in `run.json`);
3. write `report.md` and the model card `README.md` from those files, and refuse to finish if any shipped file names an absolute path.

Reads of a shipped model's test images made outside its folder (by a benchmark, through another copy of the same images) are
listed in `ELSEWHERE`; their committed ledgers are copied under `reference.test_reads_elsewhere` in `run.json`, so the card
counts them beside its own ledger. `--cards` does only that, and rewrites the cards: weights, predictions, metrics and the
shipped ledger stay byte-identical, and no test image is read.
"""
import argparse, json, os, shutil, subprocess, sys, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHIP = ('split.csv', 'model.pth', 'predictions.csv', 'metrics.json', 'history.csv', 'test_reads.jsonl', 'ood.npz')

# name -> [(a committed ledger of reads of this model on its test images outside its folder, which copy of the images)]
ELSEWHERE = {'pneumoniamnist-28': [('benchmarks/folders/results/test_reads/pneumoniamnist-28_on_folder/test_reads.jsonl',
                                   'the 224 px Kaggle folder copy of the same images, `chest_xray_224/test`')]}

def reads_elsewhere(name:str) -> list:
    "The reads of `name`'s test images recorded outside its folder (`ELSEWHERE`), one dict per ledger line, for `run.json`."
    out = []
    for ledger, copy in ELSEWHERE.get(name, []):
        for line in (REPO/ledger).read_text().splitlines():
            if not line.strip(): continue
            r = json.loads(line)
            out.append(dict(time=r['time'], caller=r['caller'], what=r['what'], n=r['n'], copy=copy, ledger=ledger))
    return out

def git_commit() -> str:
    try: return subprocess.run(['git', 'describe', '--always', '--dirty', '--abbrev=12'], cwd=REPO, capture_output=True, text=True,
                               check=True).stdout.strip()
    except Exception: return 'unknown'

def rechoose_threshold(yv, pv, p_shift=None) -> dict:
    """The threshold the current rule (`pneumo_nb.metrics.choose_threshold` through `run_metrics`) chooses from validation labels
    `yv` and probabilities `pv` (and, for a run with its model, `p_shift`: the model on the 7 shifted copies of validation,
    `pneumo_nb.criterion.shift_probs`; the pooled rule): `threshold`, `threshold_rule` (its wording), `fell_back` and, with
    `p_shift`, `val_shifted_at_threshold`. Shared with `benchmarks/rethreshold/rethreshold.py`, which reports the weightless
    seed runs under the clean rule."""
    import warnings
    from pneumo_nb.metrics import run_metrics
    from pneumo_nb.data import tag_split
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')   # a fall-back is in the rule's wording
        m = run_metrics(yv, tag_split(pv, 'valid'), n_boot=10, p_shift=p_shift)   # validation only
    return dict(threshold=m['threshold'], threshold_rule=m['threshold_rule'], fell_back=m['threshold_rule'].startswith('fell back'),
                **({'val_shifted_at_threshold': m['val_shifted_at_threshold']} if p_shift is not None else {}))

RETHRESHOLD = 'tools/build_references.py (rethreshold: the threshold rule changed)'

def rethreshold(work:Path, caller:str=RETHRESHOLD) -> str:
    "Bring a run folder's threshold and metrics up to the current rule, from its model and recorded split; what changed."
    from pneumo_nb.runs import load_run, run_metrics, score_test, write_json, RUN_FILES
    from pneumo_nb.inference import predict_arrays
    from pneumo_nb.criterion import shift_probs
    from pneumo_nb.data import run_data, tag_split, recorded_data
    r = load_run(work); old = r.metrics
    src = r.record['source']
    d = run_data(src['dataset'], recorded_data(src), r.record['config']['size'], raw=r.raw, split=r.split, splits=('valid', 'test'))
    xv, yv = d.xy('valid')
    pv = tag_split(predict_arrays(r.model, xv, r.batch), 'valid')
    new = rechoose_threshold(yv, pv, shift_probs(r.model, xv, r.batch))
    if new['threshold'] == old['threshold']:
        if new['threshold_rule'] == old['threshold_rule'] and new.get('val_shifted_at_threshold') == old.get('val_shifted_at_threshold'):
            return 'unchanged'
        write_json(work/RUN_FILES['metrics'], {**old, 'threshold_rule': new['threshold_rule'],   # same threshold, same numbers
                                               'val_shifted_at_threshold': new['val_shifted_at_threshold']})
        return f"threshold {old['threshold']:.2f} unchanged; rule now: {new['threshold_rule']}"
    xs, ys = d.xy('test')
    ps = score_test(work, r.model, xs, r.batch, caller)
    m = run_metrics(yv, pv, ys, ps, n_boot=r.record.get('n_boot', 1000), threshold=new['threshold'])
    m.update(threshold_rule=new['threshold_rule'], val_shifted_at_threshold=new['val_shifted_at_threshold'])
    write_json(work/RUN_FILES['metrics'], m)
    write_json(work/RUN_FILES['record'], {**r.record, 'threshold': m['threshold']})
    return f"threshold {old['threshold']:.2f} -> {m['threshold']:.2f} ({m['threshold_rule']})"

def rethreshold_shipped(name:str) -> Path:
    """Bring a shipped reference folder up to the current threshold rule without retraining (weights unchanged): the test split
    is scored again through `score_test` only if the threshold changes (one more line in the shipped ledger); `metrics.json`,
    the threshold in `run.json`, `report.md` and the model card are rewritten."""
    from pneumo_nb.core import atomic_dir
    from pneumo_nb.runs import reference_dir, read_json, write_json, write_report, write_model_card, test_reads, RUN_FILES, REFERENCES
    dest = reference_dir()/name
    with atomic_dir(dest, overwrite=True) as tmp:
        for f in dest.iterdir():
            if f.is_file(): shutil.copy2(f, tmp/f.name)
        what = rethreshold(tmp, RETHRESHOLD + ', shipped folder')
        rec = read_json(tmp/RUN_FILES['record'])
        rec['reference'] = {**rec['reference'], 'rethresholded': dict(commit=git_commit(), when=datetime.datetime.now().isoformat(timespec='seconds'))}
        write_json(tmp/RUN_FILES['record'], rec)
        write_report(tmp, rec, read_json(tmp/RUN_FILES['metrics']), {}, f"pneumo_nb reference model {name}: {REFERENCES[name]['title']}", (),
                     test_reads(tmp))
        write_model_card(tmp, name)
    print(f'{name}: {what}', flush=True)
    return dest

def build(name:str, data:str, retrain:bool=False) -> Path:
    from pneumo_nb.core import atomic_dir, versions, DISCLAIMER
    from pneumo_nb.runs import REFERENCES, RUN_FILES, reference_dir, read_json, write_json, sha256, write_report, test_reads, \
        write_model_card, data_checksum
    spec = REFERENCES[name]
    work = Path('benchmarks/out/reference')/name
    cmd = spec['command'].replace('DATA', data).replace('OUT', str(work))
    if retrain and work.exists(): shutil.rmtree(work)
    if not (work/RUN_FILES['metrics']).is_file():
        if work.exists(): shutil.rmtree(work)   # an incomplete folder (pneumo_train writes atomically, so only by hand)
        print(f'{name}: OMP_NUM_THREADS=1 {cmd}', flush=True)
        exe = Path(sys.executable).parent/cmd.split()[0]
        subprocess.run([str(exe), *cmd.split()[1:]], check=True, env={**os.environ, 'OMP_NUM_THREADS': '1'})
    else:
        print(f'{name}: reusing {work} (its test split was read when it was trained)', flush=True)
        print(f'{name}: {rethreshold(work)}', flush=True)
    if not (work/'ood.npz').is_file():   # a run trained before the detector existed: fit it from its recorded split
        from pneumo_nb.runs import add_ood
        print(f'{name}: {add_ood(work)}', flush=True)
    rec = read_json(work/RUN_FILES['record'])
    src = rec['source']
    root = Path(src['root'])
    portable = dict(dataset=src['dataset'], root=spec['folder'], found_by='relative to the data root ($PNEUMO_DATA or --data)')
    if src['dataset'] == 'pneumoniamnist': portable.update(file=src['file'], md5=src['md5'], size=src['size'])
    else:
        import pandas as pd
        items = pd.read_csv(work/RUN_FILES['split']).query("split != 'skipped'").item
        portable['checksum'] = data_checksum(root, items)
    assert (root.name, src['dataset']) == (spec['folder'], spec['dataset']), (root, src['dataset'], spec)   # the command trained what the registry says
    rec.update(source=portable, config={**rec['config'], 'data': None},
               reference=dict(name=name, command=spec['command'].replace('OUT', f'benchmarks/out/reference/{name}').replace('DATA', '../shared/data'),
                              env='OMP_NUM_THREADS=1', weights_sha256=sha256(work/RUN_FILES['weights']),
                              version=versions()['pneumo_nb'], commit=git_commit(),
                              built=datetime.datetime.now().isoformat(timespec='seconds'),
                              **({'test_reads_elsewhere': reads_elsewhere(name)} if name in ELSEWHERE else {})))
    dest = reference_dir()/name
    with atomic_dir(dest, overwrite=True) as tmp:
        for f in SHIP: shutil.copy2(work/f, tmp/f)
        shutil.copy2(dest/'reference.json', tmp/'reference.json')   # the registry entry (`pneumo_nb.references.find_references`) stays
        write_json(tmp/RUN_FILES['record'], rec)
        write_report(tmp, rec, read_json(tmp/RUN_FILES['metrics']), {}, f'pneumo_nb reference model {name}: {spec["title"]}', (),
                     test_reads(tmp))
        write_model_card(tmp, name)
        bad = [(f.name, s) for f in tmp.iterdir() if f.suffix in ('.json', '.jsonl', '.csv', '.md')
               for s in (str(root.parent), str(REPO), '/work/', '/home/', '/root/', '/tmp/', '/Users/') if s in f.read_text()]
        if bad: raise SystemExit(f'{name}: shipped files name absolute paths: {bad}')
    print(f"{name}: wrote {dest.relative_to(REPO)} ({sum(f.stat().st_size for f in dest.iterdir()) / 2**20:.2f} MB)", flush=True)
    return dest

def cards_shipped(name:str) -> Path:
    """Record the reads of a shipped model's test images made outside its folder (`ELSEWHERE`) in its `run.json` and rewrite
    its model card; nothing is trained or read (weights, predictions, metrics, report and the shipped ledger are unchanged)."""
    from pneumo_nb.core import atomic_dir
    from pneumo_nb.runs import reference_dir, read_json, write_json, write_model_card, RUN_FILES
    dest = reference_dir()/name
    with atomic_dir(dest, overwrite=True) as tmp:
        for f in dest.iterdir():
            if f.is_file(): shutil.copy2(f, tmp/f.name)
        rec = read_json(tmp/RUN_FILES['record'])
        ref = {k: v for k, v in rec['reference'].items() if k != 'test_reads_elsewhere'}
        extra = reads_elsewhere(name)
        rec['reference'] = {**ref, **({'test_reads_elsewhere': extra} if extra else {})}
        write_json(tmp/RUN_FILES['record'], rec)
        write_model_card(tmp, name)
    print(f"{name}: {len(extra)} test read(s) recorded outside its folder; card rewritten", flush=True)
    return dest

def add_ood_shipped(name:str) -> Path:
    "Add the out-of-distribution detector to a shipped reference folder without retraining: weights, predictions and metrics stay byte-identical; run.json gains `ood`."
    from pneumo_nb.core import atomic_dir
    from pneumo_nb.runs import reference_dir, add_ood
    dest = reference_dir()/name
    with atomic_dir(dest, overwrite=True) as tmp:
        for f in dest.iterdir():
            if f.is_file(): shutil.copy2(f, tmp/f.name)
        add_ood(name, dest=tmp)
    print(f"{name}: added {(dest/'ood.npz').relative_to(REPO)} ({(dest/'ood.npz').stat().st_size / 2**10:.0f} kB)", flush=True)
    return dest

if __name__ == '__main__':
    from pneumo_nb.runs import REFERENCES
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--data', default='../shared/data', help='the data root (holds pneumoniamnist/, chest_xray_64/)')
    ap.add_argument('--names', nargs='+', default=list(REFERENCES), choices=list(REFERENCES))
    ap.add_argument('--retrain', action='store_true', help='train again even where benchmarks/out/reference/<name> is complete')
    ap.add_argument('--ood', action='store_true', help='only fit and add the out-of-distribution detector to the shipped folders')
    ap.add_argument('--rethreshold', action='store_true', help='only bring the shipped folders up to the current threshold rule (no training)')
    ap.add_argument('--cards', action='store_true', help='only record the test reads made outside the shipped folders (ELSEWHERE) and rewrite the cards (no training, no test read)')
    a = ap.parse_args()
    os.chdir(REPO)
    if a.ood or a.rethreshold: os.environ.setdefault('PNEUMO_DATA', a.data)
    for n in a.names:
        add_ood_shipped(n) if a.ood else rethreshold_shipped(n) if a.rethreshold else cards_shipped(n) if a.cards else build(n, a.data, a.retrain)

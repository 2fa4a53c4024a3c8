"""Issue 13: choose the folder crop of `chest_xray_best` on validation only, with the criterion declared before the first training.

    PNEUMO_DATA=../shared/data python benchmarks/crop_choice/crop_choice.py [--crops 1.0 0.9 0.8 0.7] [--data ../shared/data/chest_xray_64]

Why: trained on PneumoniaMNIST's files (MedMNIST's centre crop of the same X-rays) the package's recipe calls far fewer NORMAL
test images PNEUMONIA than trained on the squished, uncropped folder images. `crop` (pneumo_nb.data.raw_preprocessing) keeps the
central share of each side, so borders, corner markers and burnt-in text leave the image.

How it chooses (written to declared.json before anything trains, and never changed afterwards):
- each candidate crop trains the chest_xray_best configuration (seed 42, its patient-level validation split of the training
  folder, which is the same for every crop because it is drawn from file names, not pixels) through `pneumo_nb.search.train_config`;
- the criterion is the project's declared search criterion, shift_nll (`pneumo_nb.search.DEFAULT_CRITERION`): the NLL on the
  shift-perturbed copies of each candidate's own validation images; lower is better; the lowest wins (ties: the larger crop);
- `search_data` reads the training and validation splits only: no test image is read, predicted or scored here.
Each candidate's result goes to benchmarks/crop_choice/crop64/crop_<c>.json (kept, so a rerun resumes); the choice to
choice.json. The chosen crop then enters the preset; its test numbers come from benchmarks/seeds/train_seeds.py afterwards.
"""
import argparse, json, datetime, time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE/'crop64'

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--crops', type=float, nargs='+', default=[1.0, 0.9, 0.8, 0.7])
    ap.add_argument('--data', default='../shared/data/chest_xray_64'); ap.add_argument('--size', type=int, default=64)
    a = ap.parse_args()
    from pneumo_nb.train import resolve_config, PRESETS
    from pneumo_nb.search import search_data, train_config, DEFAULT_CRITERION, get_criterion
    OUT.mkdir(parents=True, exist_ok=True)
    crit = get_criterion(DEFAULT_CRITERION)
    base = {k: v for k, v in PRESETS['chest_xray_best'].items() if k != 'crop'}
    decl = dict(question='which central crop of the folder images should chest_xray_best train and predict with?',
                candidates=a.crops, criterion=crit.name, direction=crit.direction, criterion_doc=crit.doc,
                rule='lowest shift_nll wins; a tie goes to the larger crop', base_preset='chest_xray_best',
                data=a.data, size=a.size, split='patient-level validation split of the training folder, seed 42, 15 %',
                test_metrics='never computed: search_data reads train and valid only')
    f = OUT/'declared.json'
    if f.is_file():
        old = json.loads(f.read_text())
        if {k: old[k] for k in decl} != decl: raise SystemExit(f'{f} declares something else; it is not changed after the fact.')
    else: f.write_text(json.dumps({**decl, 'declared': datetime.datetime.now().isoformat(timespec='seconds')}, indent=1))
    res = {}
    for c in a.crops:
        rf = OUT/f'crop_{c:.2f}.json'
        if rf.is_file(): res[c] = json.loads(rf.read_text()); print(f'crop {c}: done before ({rf.name})'); continue
        cfg = resolve_config(base, data=a.data, size=a.size, crop=None if c == 1 else c)
        t0 = time.perf_counter()
        data = search_data(cfg['dataset'], a.data, a.size, valid_pct=cfg['valid_pct'], split_seed=cfg['seed'], crop=cfg['crop'])
        r, _ = train_config(cfg, data, crit.name)
        res[c] = dict(crop=c, value=r['value'], valid=r['valid'], train_seconds=r['seconds'], wall_seconds=time.perf_counter() - t0,
                      source=data['source'], config=cfg, finished=datetime.datetime.now().isoformat(timespec='seconds'))
        rf.write_text(json.dumps(res[c], indent=1, default=str))
        print(f"crop {c}: {crit.name} {r['value']:.4f}  valid AUC {r['valid']['auc']:.4f}  spec {r['valid']['specificity']:.3f}  "
              f"({r['seconds']:.0f} s)", flush=True)
    sign = 1 if crit.direction == 'minimize' else -1
    best = min(a.crops, key=lambda c: (sign * round(res[c]['value'], 4), -c))
    (OUT/'choice.json').write_text(json.dumps(dict(chosen_crop=best, criterion=crit.name,
                                                   values={str(c): res[c]['value'] for c in a.crops},
                                                   valid={str(c): res[c]['valid'] for c in a.crops},
                                                   written=datetime.datetime.now().isoformat(timespec='seconds')), indent=1, default=float))
    print(f'chosen crop: {best} ({crit.name} {res[best]["value"]:.4f})')

if __name__ == '__main__': main()

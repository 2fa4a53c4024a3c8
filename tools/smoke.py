"""Smoke test of an installed pneumo_nb through its console scripts, on the real data: what a new user runs first.

    python tools/smoke.py [--data ../shared/data] [--keep]

Run it with the Python of the environment under test (the console scripts are taken from beside `sys.executable`).
It prints the versions it runs on, one line per check and a summary line; it exits 1 when a check fails, and a failure
names the packages (and their versions) that its traceback goes through. Everything is written into one temporary
folder, removed at the end (`--keep` keeps it and prints where it is). `.ci/run` runs it in a venv where pip resolved
the newest releases that settings.ini allows. The checks:

- every console script's `--help` (exit 0, the options spelt as documented, e.g. `--train_limit`);
- `pneumo_train --train_limit` (a quick run of the `best` preset, pneumoniamnist-28's recipe: 1 epoch on 256 PneumoniaMNIST images) writes a run folder;
- `pneumo_predict` with both reference models on a PNG (chest_xray_64), a JPEG (chest_xray_224) and a DICOM (written
  by `pneumo_nb.decode.xray_to_dicom` from a real X-ray), with the `ood` columns; a picture that is not an X-ray is
  flagged out of distribution;
- `pneumo_evaluate` on the quick run (its threshold kept);
- `pneumo_export` of the quick run, and `pneumo_predict --model model.onnx` giving the run's probabilities (parity);
- an ensemble: `pneumo_predict` with two `--model` (the quick run and pneumoniamnist-28) gives their mean.
"""
from __future__ import annotations
import argparse, json, importlib.metadata, io, os, re, shutil, subprocess, sys, tempfile, time, traceback
from pathlib import Path

SCRIPTS = ('pneumo_train', 'pneumo_evaluate', 'pneumo_predict', 'pneumo_export', 'pneumo_reproduce', 'pneumo_search', 'pneumo_seeds', 'pneumo_site')
PACKAGES = ('pneumo_nb', 'fastai', 'fastcore', 'torch', 'torchvision', 'numpy', 'pandas', 'scikit-learn', 'scipy', 'pillow',
            'pydicom', 'onnx', 'onnxruntime', 'optuna', 'matplotlib')
COLUMNS = ['path', 'prob_pneumonia', 'label', 'ood_score', 'ood', 'ood_reason']
BIN = Path(sys.executable).parent

def version(dist:str) -> str:
    try: return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError: return 'not installed'

def versions_line() -> str:
    return f"python {sys.version.split()[0]}, " + ', '.join(f"{p} {version(p)}" for p in PACKAGES)

_dists = None
def packages_in(text:str) -> list:
    "The installed distributions whose modules `text` (a traceback or an error message) names, with their versions."
    global _dists
    if _dists is None: _dists = importlib.metadata.packages_distributions()
    mods = re.findall(r'site-packages[/\\]([A-Za-z_][A-Za-z0-9_]*)', text)          # frames of installed packages
    mods += re.findall(r"(?:from|module|No module named) '([A-Za-z_][A-Za-z0-9_]*)", text)   # ImportError's names
    mods += re.findall(r'\b(pneumo_nb)[/\\.]', text)
    out = []
    for m in dict.fromkeys(mods):
        for d in _dists.get(m, [m] if m == 'pneumo_nb' else []):
            s = f"{d} {version(d)}"
            if s not in out: out.append(s)
    return out

class Smoke:
    def __init__(self, data:Path, tmp:Path):
        self.data, self.tmp, self.results = data, tmp, []
        self.env = {**os.environ, 'TMPDIR': str(tmp/'tmp'), 'PNEUMO_DATA': str(data)}
        (tmp/'tmp').mkdir()

    def sh(self, *args, ok:bool=True) -> subprocess.CompletedProcess:
        "Run a console script of this environment in the temporary folder; a non-zero exit fails the check with its stderr."
        r = subprocess.run([str(BIN/args[0]), *map(str, args[1:])], capture_output=True, text=True, cwd=self.tmp, env=self.env, timeout=900)
        if ok and r.returncode != 0:
            raise AssertionError(f"`{' '.join(map(str, args))}` exited with {r.returncode}:\n{r.stderr[-3000:]}")
        return r

    def check(self, name:str, fn):
        t0 = time.time()
        try:
            note = fn()
            self.results.append((name, True)); print(f"ok    {name} ({time.time() - t0:.1f} s){': ' + note if note else ''}", flush=True)
        except Exception as e:
            pk = packages_in(str(e)) or packages_in(''.join(traceback.format_exception(e)))   # the child's traceback first
            self.results.append((name, False))
            print(f"FAIL  {name} ({time.time() - t0:.1f} s): {type(e).__name__}: {str(e).strip()[:3000]}", flush=True)
            print(f"      packages in the failure: {', '.join(pk) if pk else 'none named'}", flush=True)

def main(data:Path, keep:bool=False) -> int:
    import numpy as np, pandas as pd
    t_start = time.time()
    print(f"smoke test on {versions_line()}", flush=True)
    for p in ('pneumoniamnist/pneumoniamnist.npz', 'chest_xray_64/test/NORMAL', 'chest_xray_224/test/PNEUMONIA'):
        if not (data/p).exists(): print(f"FATAL: {data/p} not found: --data names the folder of pneumoniamnist/, chest_xray_64/ and chest_xray_224/"); return 1
    tmp = Path(tempfile.mkdtemp(prefix='pneumo_smoke_'))
    s, st = Smoke(data.resolve(), tmp), {}
    try:
        def helps():
            for sc in SCRIPTS:
                r = s.sh(sc, '--help')
                if 'usage:' not in r.stdout: raise AssertionError(f"{sc} --help printed no usage:\n{r.stdout}")
            h = s.sh('pneumo_train', '--help').stdout
            miss = [o for o in ('--train_limit', '--split_seed', '--no_download', '--preset') if o not in h]
            if miss: raise AssertionError(f"pneumo_train --help lacks {miss}:\n{h}")
            return f"{len(SCRIPTS)} scripts"
        s.check('every console script answers --help', helps)

        def images():   # a PNG, a JPEG and a DICOM made from a real X-ray, and a picture that is not an X-ray
            from pneumo_nb.decode import xray_to_dicom, read_xray
            from PIL import Image
            d = tmp/'images'; d.mkdir()
            png = sorted((data/'chest_xray_64/test/PNEUMONIA').glob('*.png'))[0]
            jpg = sorted((data/'chest_xray_224/test/NORMAL').glob('*.jp*g'))[0]
            shutil.copy(png, d/png.name); shutil.copy(jpg, d/jpg.name)
            dcm = xray_to_dicom(sorted((data/'chest_xray_224/test/PNEUMONIA').glob('*.jp*g'))[0], d/'xray.dcm', bits=12, window=True)
            if read_xray(dcm).size != (224, 224): raise AssertionError(f"the DICOM reads back as {read_xray(dcm).size} pixels")
            y, x = np.mgrid[:224, :224]
            Image.fromarray(np.stack([x % 256, y % 256, (x * y) % 256], -1).astype(np.uint8)).save(d/'not_an_xray.png')
            st['files'] = [d/png.name, d/jpg.name, dcm, d/'not_an_xray.png']
            return ', '.join(f.suffix for f in st['files'])
        s.check('real PNG, JPEG and DICOM files to score', images)

        def table(r) -> pd.DataFrame:
            df = pd.read_csv(io.StringIO(r.stdout))
            if list(df.columns) != COLUMNS: raise AssertionError(f"columns {list(df.columns)}, expected {COLUMNS}")
            if len(df) != len(st['files']): raise AssertionError(f"{len(df)} rows for {len(st['files'])} files:\n{r.stdout}\n{r.stderr}")
            if not df.prob_pneumonia.between(0, 1).all() or not np.isfinite(df.ood_score).all(): raise AssertionError(f"bad values:\n{df}")
            if set(df.ood.astype(str)) - {'True', 'False'}: raise AssertionError(f"ood column not boolean:\n{df}")
            return df

        def reference(name):
            def fn():
                df = table(s.sh('pneumo_predict', '--model', name, *st['files']))
                ood = dict(zip(df.path.map(lambda p: Path(p).name), df.ood.astype(str) == 'True'))
                if not ood['not_an_xray.png']: raise AssertionError(f"the picture that is not an X-ray was not flagged:\n{df}")
                return f"p = {', '.join(f'{p:.3f}' for p in df.prob_pneumonia)}; ood = {', '.join(str(o) for o in ood.values())}"
            return fn
        for name in ('pneumoniamnist-28', 'chest-xray-64'): s.check(f"pneumo_predict --model {name}: PNG, JPEG, DICOM, ood columns", reference(name))

        run = tmp/'run'
        def train():
            s.sh('pneumo_train', '--preset', 'best', '--epochs', '1', '--train_limit', '256', '--data', data.resolve(), '--out', run, '--quiet')
            miss = [f for f in ('model.pth', 'run.json', 'metrics.json', 'predictions.csv', 'split.csv', 'ood.npz', 'report.md') if not (run/f).is_file()]
            if miss: raise AssertionError(f"the run folder lacks {miss}")
            t = pd.read_json(run/'metrics.json', typ='series')['test_at_threshold']
            return f"test accuracy {t['accuracy']:.3f} (1 epoch on 256 images: a check, not a result)"
        s.check('pneumo_train --train_limit 256 --epochs 1', train)

        def evaluate():
            s.sh('pneumo_evaluate', run, '--quiet')
            ev = next(run.glob('eval-*/metrics.json'))
            a, b = (pd.read_json(p, typ='series')['threshold'] for p in (ev, run/'metrics.json'))
            if abs(a - b) > 1e-9: raise AssertionError(f"threshold {a} on re-evaluation, {b} in the run")
            return f"{ev.parent.name}, threshold {a:.3f}"
        s.check('pneumo_evaluate RUN', evaluate)

        def export():
            s.sh('pneumo_export', run, '--quiet')
            if not (run/'model.onnx').is_file(): raise AssertionError("no model.onnx written")
            a, b = (table(s.sh('pneumo_predict', '--model', m, *st['files'])) for m in (run, run/'model.onnx'))
            d = float(np.abs(a.prob_pneumonia.values - b.prob_pneumonia.values).max())
            if d > 1e-4: raise AssertionError(f"ONNX and PyTorch probabilities differ by {d:.2e}:\n{a}\n{b}")
            if list(a.label) != list(b.label): raise AssertionError(f"labels differ:\n{a}\n{b}")
            st['run'] = a
            return f"max |p_onnx - p_torch| = {d:.1e}"
        s.check('pneumo_export RUN, onnxruntime parity', export)

        def ensemble():
            e = table(s.sh('pneumo_predict', '--model', run, '--model', 'pneumoniamnist-28', *st['files']))
            ref = table(s.sh('pneumo_predict', '--model', 'pneumoniamnist-28', *st['files']))
            mean = (st['run'].prob_pneumonia.values + ref.prob_pneumonia.values) / 2 if 'run' in st else None
            if mean is not None and np.abs(e.prob_pneumonia.values - mean).max() > 1e-4:
                raise AssertionError(f"the ensemble is not the mean of its members:\n{e}\n{mean}")
            return f"p = {', '.join(f'{p:.3f}' for p in e.prob_pneumonia)}"
        s.check('ensemble: pneumo_predict --model RUN --model pneumoniamnist-28', ensemble)

        def site():   # the local check on a small labelled folder (every 16th Kaggle *training* image: no test image read), threshold and calibration only
            loc = tmp/'local'
            for f in sorted((data/'chest_xray_64'/'train').rglob('*.png'))[::16]:
                (loc/f.parent.name).mkdir(parents=True, exist_ok=True); shutil.copy(f, loc/f.parent.name/f.name)
            s.sh('pneumo_site', '--model', 'chest-xray-64', '--data', loc, '--labels', '32', '--no_finetune', '--n_boot', '100', '--out', tmp/'site', '--quiet')
            j = json.loads((tmp/'site'/'site.json').read_text())
            if set(j['levels']) != {'shipped', 'threshold', 'calibrate'} or not j['adapted'].startswith('adapted with'): raise AssertionError(f"site.json: {sorted(j)}")
            return f"{j['n_adapt']} adaptation and {j['n_eval']} evaluation images; the rule picked {j['rule']['picked']}"
        s.check('pneumo_site --no_finetune on a labelled folder', site)
    finally:
        if keep: print(f"kept {tmp}")
        else: shutil.rmtree(tmp, ignore_errors=True)
    failed = [n for n, ok in s.results if not ok]
    print(f"smoke test: {len(s.results) - len(failed)} passed, {len(failed)} failed in {time.time() - t_start:.0f} s "
          f"(fastai {version('fastai')}, fastcore {version('fastcore')}, torch {version('torch')})")
    return 1 if failed else 0

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--data', default='../shared/data', help='folder holding pneumoniamnist/, chest_xray_64/ and chest_xray_224/')
    ap.add_argument('--keep', action='store_true', help='keep the temporary folder')
    a = ap.parse_args()
    sys.exit(main(Path(a.data), a.keep))

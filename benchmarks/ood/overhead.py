"""(pneumo_nb.ood, the shipped detectors.) What the OOD check adds to `predict_files` time: the core of predict_files (read the files with the run's raw
preprocessing, `predict_arrays` with the run's TTA) without and with the check (cheap checks in the same decode, stage
features tapped from the same forward passes, pixels, the Mahalanobis distances). Interleaved repeats, median.

    PYTHONPATH=. nice -n 15 python benchmarks/ood/overhead.py
"""
import glob, os, sys, time
from pathlib import Path
import numpy as np, torch
sys.path.insert(0, str(Path(__file__).parent))
from pneumo_nb.ood import read_files_checked, StageTap, pixel_features, MultiDetector, component_features, OOD_FILE
from pneumo_nb.runs import load_run
from pneumo_nb.data import read_files
from pneumo_nb.inference import predict_arrays, TTA

DATA = Path(os.environ.get('PNEUMO_DATA', '/work/shared/data'))

def plain(r, files):
    x, ok, sk = read_files(files, r.raw, 2)
    return predict_arrays(r.model, x, r.batch, bs=64, device='cpu')

def checked(r, det, files):
    x, ok, sk, notes = read_files_checked(files, r.raw, 2)
    tap = StageTap(r.model, 1 + len(TTA[r.batch.get('tta')]))
    with tap: p = predict_arrays(r.model, x, r.batch, bs=64, device='cpu')
    s = det.score({**tap.features(), 'pixels': pixel_features(x)})
    return p, s, x

def main():
    torch.set_num_threads(1)
    out = ['| model | files | without check (s) | with check (s) | overhead |', '|---|---|---|---|---|']
    for name in ('pneumoniamnist-28', 'chest-xray-64'):
        r = load_run(name); det = MultiDetector.load(r.path/OOD_FILE)   # the shipped detector
        for copy in ('chest_xray_64', 'chest_xray_224'):
            files = sorted(glob.glob(str(DATA/copy/'test'/'*'/'*')))
            p0 = plain(r, files); p1, s, x = checked(r, det, files)   # warm-up, and the check changes no probability
            assert np.array_equal(p0, p1)
            s_ref = det.score(component_features(r.model, x, r.batch))
            assert np.allclose(s, s_ref, rtol=1e-4, atol=1e-5), np.abs(s - s_ref).max()   # tapped == separately computed
            ta, tb = [], []
            for _ in range(5):
                t = time.perf_counter(); plain(r, files); ta.append(time.perf_counter() - t)
                t = time.perf_counter(); checked(r, det, files); tb.append(time.perf_counter() - t)
            a, b = np.median(ta), np.median(tb)
            out.append(f'| {name} | {copy}/test ({len(files)}) | {a:.2f} | {b:.2f} | {b / a - 1:+.1%} |'); print(out[-1], flush=True)
    (Path(__file__).parent/'out'/'overhead.md').write_text('\n'.join(out) + '\n')

if __name__ == '__main__': main()

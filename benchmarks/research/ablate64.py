"""Issue 23, part 1: ablations of the Kaggle folder pipeline at 64 px, judged by validation-only diagnostics declared in
`DECISIONS_issue23.md` (section 3) before any of these runs.

    python benchmarks/research/ablate64.py --data ../shared/data/chest_xray_64 --out OUT [--configs a b ...] [--seeds 0 1]
        [--jobs 6] [--quick]

Every configuration trains the `chest_xray_best` recipe with one lever changed, on the same patient-level validation
split of `chest_xray_64/train` (split seed 0), through the package's own `run_data` / `fit_config` / `predict_arrays`.
Per run it writes one JSON line to OUT/results.jsonl: the three diagnostics (validation only) and, computed after
training and kept apart under `test`, the test metrics (each read recorded in OUT/test_reads.jsonl). The diagnostics
never see test; the summary (`ablate64_summary.py`) ranks by the declared criterion and only afterwards reports how
each diagnostic's ranking agreed with test.
"""
import argparse, json, os, sys, time, traceback
from pathlib import Path
import numpy as np, torch, torch.nn.functional as F

LEVERS = {  # name -> overrides: cfg (config keys), arr (array-level preprocessing, all splits), deg (training degradation)
    'base': {},
    'res28': dict(size=28),
    'degrade': dict(deg=True),
    'cropw0.8': dict(arr=('cropw', 0.8)),
    'crop0.8': dict(arr=('crop', 0.8)),
    'mask0.1': dict(arr=('mask', 0.1)),
    'width24': dict(cfg={'model_kwargs': {'width': 24, 'p': 0.0078296}}),
    'width32': dict(cfg={'model_kwargs': {'width': 32, 'p': 0.0078296}}),
    'blocks2': dict(cfg={'model_kwargs': {'width': 16, 'blocks': 2, 'p': 0.0078296}}),
    'epochs12': dict(cfg={'epochs': 12}),
    'degrade+cropw0.8': dict(deg=True, arr=('cropw', 0.8)),
    'degrade+mask0.1': dict(deg=True, arr=('mask', 0.1)),
    'degrade+width32': dict(deg=True, cfg={'model_kwargs': {'width': 32, 'p': 0.0078296}}),
    'degrade+blocks2': dict(deg=True, cfg={'model_kwargs': {'width': 16, 'blocks': 2, 'p': 0.0078296}}),
}

# ---------------------------------------------------------------- array-level preprocessing (train, valid and test alike)
def _resize(t, size): return F.interpolate(t, size=size, mode='bilinear', align_corners=False, antialias=True)

def arr_op(x, op):
    "uint8 [N,H,W] -> uint8 [N,H,W] under a geometry lever applied to every split."
    if op is None: return x
    kind, v = op
    t = torch.as_tensor(x).float()[:, None]
    H, W = t.shape[-2:]
    if kind in ('cropw', 'crop'):   # central share of the width (cropw) or of both sides (crop), resized back
        cw = round(W * v); ch = H if kind == 'cropw' else round(H * v)
        ow, oh = (W - cw) // 2, (H - ch) // 2
        t = _resize(t[..., oh:oh + ch, ow:ow + cw], (H, W))
    elif kind == 'mask':            # the outer band of `v` of each side set to the image's mean (markers, text, borders)
        bh, bw = round(H * v), round(W * v)
        m = torch.zeros(H, W, dtype=torch.bool); m[bh:H - bh, bw:W - bw] = True
        t = torch.where(m, t, t.mean((-2, -1), keepdim=True))
    return t[:, 0].round().clamp(0, 255).to(torch.uint8).numpy()

# ---------------------------------------------------------------- the declared diagnostic shifts, sized for the image side
# the package's own image operations (first copied there from this script; the same contrast shift as the 28 px criterion's).
# Before the module split (issue 29) they were the private pneumo_nb.train._downup/_gauss/_jpeg and pneumo_nb.search._contrast,
# with _downup(t, f) for down_up(t, factor=f).
from pneumo_nb.imageops import down_up, gaussian_blur as _blur, jpeg as _jpeg, contrast as _contrast
def _downup(t, f): return down_up(t, factor=f)

def _zoom_out(t, f):   # the image shrunk to `f` of its side, centred, the rest filled with its border (edge) values
    H, W = t.shape[-2:]; h, w = round(H * f), round(W * f)
    s = _resize(t, (h, w)); ph, pw = (H - h) // 2, (W - w) // 2
    return F.pad(s, (pw, W - w - pw, ph, H - h - ph), mode='replicate')

def _crop_zoom(t, f, width_only=False):
    H, W = t.shape[-2:]; cw = round(W * f); ch = H if width_only else round(H * f)
    ow, oh = (W - cw) // 2, (H - ch) // 2
    return _resize(t[..., oh:oh + ch, ow:ow + cw], (H, W))

def shifts(size):
    "The declared shift copies for images of side `size` (blur in pixels scaled by size/28 from the 28 px criterion)."
    s = size / 28
    return {'downup0.5': lambda t: _downup(t, 0.5), 'downup0.25': lambda t: _downup(t, 0.25),
            'blur1': lambda t: _blur(t, 0.8 * s), 'blur2': lambda t: _blur(t, 1.6 * s), 'jpeg25': lambda t: _jpeg(t, 25),
            'zoomout0.9': lambda t: _zoom_out(t, 0.9), 'cropzoom0.85': lambda t: _crop_zoom(t, 0.85),
            'squishw0.8': lambda t: _crop_zoom(t, 0.8, width_only=True),
            'contrast0.7': lambda t: _contrast(t, 0.7), 'contrast1.3': lambda t: _contrast(t, 1.3),
            'gamma0.6': lambda t: t.clamp(1e-4, 1) ** 0.6, 'gamma1.6': lambda t: t.clamp(1e-4, 1) ** 1.6}

def shift_copies(x, size):
    t = torch.as_tensor(x).float().div(255)[:, None]
    return {k: (f(t)[:, 0] * 255).round().clamp(0, 255).to(torch.uint8).numpy() for k, f in shifts(size).items()}

# ---------------------------------------------------------------- one run
def nll(y, p):
    p = np.clip(np.asarray(p, np.float64), 1e-7, 1 - 1e-7); y = np.asarray(y)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))

def one(name, seed, a, out):
    from pneumo_nb.data import run_data, tag_split
    from pneumo_nb.train import resolve_config, fit_config, xray_aug
    from pneumo_nb.evaluate import predict_arrays, choose_threshold, binary_metrics
    from pneumo_nb.heatmaps import gradcam, lung_energy
    from pneumo_nb.data import to_model_input
    from pneumo_nb.runs import log_test_read
    from sklearn.metrics import roc_auc_score
    lv = LEVERS[name]
    size = lv.get('size', 64)
    cfg = resolve_config('chest_xray_best', dataset='folder', data=a.data, size=size, seed=seed, **lv.get('cfg', {}))
    if a.quick: cfg.update(epochs=1, train_subset=600)
    t0 = time.time()
    data = run_data('folder', a.data, size, 1, cfg['valid_pct'], a.split_seed, splits=('train', 'valid', 'test'))
    xt, yt = data.xy('train'); xv, yv = data.xy('valid'); xs, ys = data.xy('test')
    op = lv.get('arr')
    xt, xv, xs = (tag_split(arr_op(np.asarray(x), op), s) if op else x for x, s in ((xt, 'train'), (xv, 'valid'), (xs, 'test')))
    cfg['aug'] = 'xray_degrade' if lv.get('deg') else 'xray'   # the `deg` lever is `XrayDegrade` (p = 0.5)
    learn = fit_config(cfg, (xt, yt, xv, yv), progress='quiet')
    model, pre = learn.model.eval(), learn.preprocessing
    train_s = time.time() - t0
    pv = predict_arrays(model, xv, pre)
    yv_ = np.asarray(yv)
    sh = {k: predict_arrays(model, tag_split(v, 'valid'), pre) for k, v in shift_copies(np.asarray(xv), size).items()}
    ys_all = np.tile(yv_, len(sh)); ps_all = np.concatenate(list(sh.values()))
    xin = to_model_input(np.asarray(xv[:256]), pre)
    heats = []
    dev = next(model.parameters()).device
    for i in range(0, len(xin), 64): heats.append(gradcam(model, xin[i:i + 64].to(dev)).cpu().numpy())
    le = lung_energy(np.concatenate(heats))
    diag = dict(val_auc=float(roc_auc_score(yv_, pv)), val_nll=nll(yv_, pv), shift_nll=nll(ys_all, ps_all),
                shift_auc=float(roc_auc_score(ys_all, ps_all)), lung_share=float(np.nanmean(le['centre'])),
                per_shift_nll={k: nll(yv_, v) for k, v in sh.items()})
    thr, _ = choose_threshold(yv, pv, thresholds=np.round(np.arange(0.01, 0.995, 0.01), 2))
    # after the diagnostics: the test read, recorded
    pt = predict_arrays(model, xs, pre); yt_ = np.asarray(ys)
    log_test_read(out, 'ablate64', f'{name} seed {seed}: test AUC and metrics at 0.5 and at the validation threshold', len(yt_))
    m05, mt = binary_metrics(yt_, pt, 0.5), binary_metrics(yt_, pt, thr)
    test = dict(auc=float(roc_auc_score(yt_, pt)), acc05=float(m05['accuracy']), sens05=float(m05['sensitivity']),
                spec05=float(m05['specificity']), threshold=thr, acc_t=float(mt['accuracy']), sens_t=float(mt['sensitivity']),
                spec_t=float(mt['specificity']))
    np.savez_compressed(Path(out)/f'probs_{name}_s{seed}.npz', val=pv, test=pt)
    return dict(name=name, seed=seed, size=size, train_s=round(train_s, 1), device=str(dev), diag=diag, test=test)

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--data', required=True); ap.add_argument('--out', required=True)
    ap.add_argument('--configs', nargs='*', default=list(LEVERS)); ap.add_argument('--seeds', nargs='*', type=int, default=[0, 1])
    ap.add_argument('--split_seed', type=int, default=0); ap.add_argument('--jobs', type=int, default=1)
    ap.add_argument('--worker', default=None); ap.add_argument('--quick', action='store_true')
    a = ap.parse_args()
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    if a.worker is not None:   # one (config, seed) in this process
        name, seed = a.worker.rsplit(':', 1)
        try: r = one(name, int(seed), a, out)
        except Exception: r = dict(name=name, seed=int(seed), error=traceback.format_exc()[-2000:])
        with open(out/'results.jsonl', 'a') as f: f.write(json.dumps(r) + '\n')
        print(json.dumps({k: r.get(k) for k in ('name', 'seed', 'train_s', 'diag', 'error')})[:600], flush=True)
        return
    import subprocess
    jobs = [f'{c}:{s}' for s in a.seeds for c in a.configs]
    running = []
    base = [sys.executable, __file__, '--data', a.data, '--out', a.out, '--split_seed', str(a.split_seed)] + (['--quick'] if a.quick else [])
    while jobs or running:
        while jobs and len(running) < a.jobs: running.append(subprocess.Popen(base + ['--worker', jobs.pop(0)]))
        time.sleep(0.5)
        running = [p for p in running if p.poll() is None]

if __name__ == '__main__': main()

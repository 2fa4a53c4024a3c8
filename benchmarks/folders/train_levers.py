"""Issue 30, part B: train the declared folder levers on train + validation only (the test split is never read).

    OMP_NUM_THREADS=1 nice -n 19 python benchmarks/folders/train_levers.py LEVER [LEVER ...] --seeds 0 1 [--data DIR]

Each run goes to benchmarks/out/folders/<lever>/seed<seed>/ (ignored by git): model.pth (state dict), info.json
(config, preprocessing, timing, validation AUC) and valid.csv (item, patient, label, prob_pneumonia).
`fit_config` on the arrays of `pneumo_nb.data.run_data(..., splits=('train', 'valid'))` is used instead of
`train_and_report`, because the latter scores test. All levers share the folder validation split of split_seed 42.
"""
import argparse, json, time
from pathlib import Path
import numpy as np, torch
from PIL import Image

torch.set_num_threads(1)
ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT/'benchmarks'/'out'/'folders'
SPLIT_SEED = 42

# lever -> (preset, size, crop, extra config); 'wcrop' = MedMNIST-like central width share of the squished 224 px image
LEVERS = {
    'cxbest64': dict(preset='chest_xray_best', size=64),
    'best28': dict(preset='best', size=28),
    'best28_crop0.8': dict(preset='best', size=28, crop=0.8),
    'best32_crop0.8': dict(preset='best', size=32, crop=0.8),
    'best28_medmnist': dict(preset='best', size=28, wcrop=None),   # share filled in from medmnist_share.json
    'distill28': dict(preset='best', size=28, distill='pneumoniamnist-28'),
    # levers added in the second session (declared in DECLARATION.md, addendum B2, before their runs)
    'medmnist64': dict(preset='chest_xray_best', size=64, wcrop=None),          # the MedMNIST-like width crop with the 64 px recipe
    'distill64': dict(preset='chest_xray_best', size=64, distill='pneumoniamnist-28'),   # distillation into the 64 px recipe
    'multires64': dict(preset='chest_xray_best', size=64, multires=28),         # training across resolutions: 64 px + 64->28->64 copies
}

def down_up_copies(x, low):
    "Each image taken down to `low` px (box filter) and back up to its size (bilinear): the same image at a lower resolution."
    H = x.shape[1]
    return np.stack([np.asarray(Image.fromarray(im).resize((low, low), Image.BOX).resize((H, H), Image.BILINEAR)) for im in x])

def width_crop(x224, share, size):
    "MedMNIST-like: keep the central `share` of the width (full height) of each squished image, resize to `size` bicubic."
    W = x224.shape[2]; cw = round(W * share); o = (W - cw) // 2
    return np.stack([np.asarray(Image.fromarray(im[:, o:o + cw]).resize((size, size), Image.BICUBIC)) for im in x224])

def lever_data(name, data):
    from pneumo_nb.data import run_data, tag_split
    lv = LEVERS[name]
    if 'wcrop' in lv:
        share = json.loads((OUT/'medmnist_share.json').read_text())['share'] if lv['wcrop'] is None else lv['wcrop']
        rd = run_data('folder', data, 224, 1, 0.15, SPLIT_SEED, splits=('train', 'valid'))
        (xt, yt), (xv, yv) = rd.xy('train'), rd.xy('valid')
        xt, xv = tag_split(width_crop(np.asarray(xt), share, lv['size']), 'train'), tag_split(width_crop(np.asarray(xv), share, lv['size']), 'valid')
        raw = dict(method='width_crop_then_resize', share=share, resample='bicubic', size=lv['size'], mode='L')
    else:
        rd = run_data('folder', data, lv['size'], 1, 0.15, SPLIT_SEED, splits=('train', 'valid'), crop=lv.get('crop'))
        (xt, yt), (xv, yv) = rd.xy('train'), rd.xy('valid')
        raw = rd.raw
        if lv.get('multires'):   # training images twice: at their size and down-up from `multires` px (validation unchanged)
            xt0 = np.asarray(xt)
            xt = tag_split(np.concatenate([xt0, down_up_copies(xt0, lv['multires'])]), 'train')
            yt = np.concatenate([np.asarray(yt), np.asarray(yt)])
            raw = {**raw, 'train_multires': [lv['size'], lv['multires']]}
    return rd, raw, (xt, yt, xv, yv)

def valid_table(rd):
    return rd.items.iloc[rd.idx('valid')].reset_index(drop=True)

def distill_callback(teacher_name, alpha=0.5):
    """Distillation: on each training batch the loss is (1 - alpha) x the recipe's weighted loss + alpha x the cross-entropy
    to the teacher's probability of PNEUMONIA on the same augmented images (weighted by the label's class weight).
    The teacher sees the student's batch un-normalised, area-resized to 28 px if larger, and re-normalised with its own statistics.
    Validation loss and predictions are the recipe's own."""
    from fastai.callback.core import Callback
    from pneumo_nb.runs import load_run
    from pneumo_nb.core import probs_from_logits
    t = load_run(teacher_name); teacher = t.model.eval()
    tm, ts = float(t.batch['mean'][0]), float(t.batch['std'][0])
    for q in teacher.parameters(): q.requires_grad_(False)

    class _Loss(torch.nn.Module):
        def __init__(self, orig, cb): super().__init__(); self.orig, self.cb = orig, cb
        def forward(self, out, targ):
            base = self.orig(out, targ)
            if not self.cb.is_train or self.cb.p_t is None: return base
            o = out.as_subclass(torch.Tensor); y = targ.as_subclass(torch.Tensor).reshape(-1).long()
            ls = torch.nn.functional.logsigmoid
            lp1, lp0 = (ls(o.reshape(-1)), ls(-o.reshape(-1))) if o.ndim == 1 or o.shape[-1] == 1 else \
                (torch.log_softmax(o, -1)[:, 1], torch.log_softmax(o, -1)[:, 0])
            w = torch.ones(len(y)) if self.orig.weights is None else self.orig.weights.to(o.device)[y]
            soft = -(w * (self.cb.p_t * lp1 + (1 - self.cb.p_t) * lp0)).sum() / w.sum()
            return (1 - alpha) * base + alpha * soft
        def activation(self, out): return self.orig.activation(out)
        def decodes(self, probs): return self.orig.decodes(probs)

    class Distill(Callback):
        order = 5
        def before_fit(self):
            self.p_t, self.is_train = None, False
            pre = self.learn.dls.preprocessing
            self.sm, self.ss = float(pre['mean'][0]), float(pre['std'][0])
            self.orig = self.learn.loss_func; self.learn.loss_func = _Loss(self.orig, self)
        def before_batch(self):
            self.is_train = self.learn.training
            if not self.is_train: self.p_t = None; return
            x = self.xb[0].as_subclass(torch.Tensor)
            if x.shape[-1] != 28: x = torch.nn.functional.interpolate(x, size=(28, 28), mode='area')   # the teacher's input size
            with torch.no_grad(): self.p_t = probs_from_logits(teacher(((x * self.ss + self.sm) - tm) / ts)).reshape(-1).float()
        def after_fit(self): self.learn.loss_func = self.orig
    return Distill()

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('levers', nargs='+', choices=list(LEVERS))
    ap.add_argument('--seeds', nargs='+', type=int, default=[0, 1])
    ap.add_argument('--data', default='/work/shared/data/chest_xray_224')
    ap.add_argument('--overwrite', action='store_true')
    ap.add_argument('--smoke', action='store_true', help='1 epoch on 512 images, written under a smoke/ folder (a code check, not a result)')
    a = ap.parse_args()
    from pneumo_nb.train import resolve_config, fit_config
    from pneumo_nb.evaluate import predict_arrays, binary_metrics
    for name in a.levers:
        lv = LEVERS[name]
        rd, raw, (xt, yt, xv, yv) = lever_data(name, a.data)
        vt = valid_table(rd)
        assert len(vt) == len(yv) and (vt.label.values == np.asarray(yv)).all()
        for seed in a.seeds:
            d = OUT/('smoke' if a.smoke else '')/name/f'seed{seed}'
            if (d/'info.json').is_file() and not a.overwrite: print('exists', d); continue
            d.mkdir(parents=True, exist_ok=True)
            cfg = resolve_config(lv['preset'], dataset='folder', data=a.data, size=lv['size'], crop=lv.get('crop'), seed=seed,
                                 split_seed=SPLIT_SEED)
            t0, c0 = time.time(), time.process_time()
            cbs = [distill_callback(lv['distill'])] if lv.get('distill') else None
            if a.smoke: cfg.update(epochs=1); k = np.random.default_rng(0).permutation(len(yt))[:512]; xt_, yt_ = xt[k], np.asarray(yt)[k]
            else: xt_, yt_ = xt, yt
            learn = fit_config(cfg, (xt_, yt_, xv, yv), progress='quiet', device='cpu', cbs=cbs)
            wall, cpu = time.time() - t0, time.process_time() - c0
            pre = learn.preprocessing
            pv = predict_arrays(learn.model, xv, pre, device='cpu')
            torch.save(learn.model.state_dict(), d/'model.pth')
            vt.assign(prob_pneumonia=pv)[['item', 'patient', 'label', 'prob_pneumonia']].to_csv(d/'valid.csv', index=False)
            m = binary_metrics(np.asarray(yv), pv)
            info = dict(lever=name, seed=seed, split_seed=SPLIT_SEED, distill=lv.get('distill'), distill_alpha=0.5 if lv.get('distill') else None, config={k: v for k, v in learn.cfg.items() if k != 'data'},
                        arch=learn.cfg['arch'], model_kwargs=learn.model_kwargs, raw=raw, batch=pre, n_train=len(yt),
                        n_valid=len(yv), train_wall_s=round(wall, 1), train_cpu_s=round(cpu, 1), threads=torch.get_num_threads(),
                        val_auc=float(m['auc']), val_nll=float(-np.mean(np.log(np.clip(np.where(np.asarray(yv) == 1, pv, 1 - pv), 1e-7, 1)))))
            (d/'info.json').write_text(json.dumps(info, indent=1, default=str))
            print(f"{name} seed {seed}: val AUC {m['auc']:.4f}, {wall:.0f} s wall, {cpu:.0f} s CPU", flush=True)

if __name__ == '__main__': main()

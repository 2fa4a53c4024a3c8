"""fastai training loop vs a plain PyTorch loop: same model, data, loss, optimizer, schedule and batch size.

Usage:  python benchmarks/speed/train_speed.py [--pairs 5] [--epochs 2] [--threads 1] [--naive | --opt adam --no-plain --bar] [--profile]

What is compared (and kept identical on both sides):
- data: the official PneumoniaMNIST 28 px train split (4,708 images) and val split (524), in memory, uint8 -> float/255
  -> normalised with the train mean/std; no augmentation on either side; batch size 128, shuffled each epoch, last
  incomplete batch dropped; validation in batches of 256.
- model: `get_model(arch)` (default report 003's CNN, 615,521 parameters), same initial weights (same seed).
- loss: `pneumo_nb.train.BinaryLoss` with the same inverse-frequency class weights.
- optimizer: `torch.optim.AdamW(eps=1e-5, weight_decay=1e-4)`; the fastai side wraps the same class in `OptimWrapper`
  (the `make_learner` default, `opt='adamw'`).
- schedule: one cycle. fastai's `fit_one_cycle(lr_max)` (cosine warm-up over 25% of the steps from lr_max/25, cosine
  annealing to lr_max/1e5, beta1 cycling 0.95 -> 0.85 -> 0.95) is matched by `OneCycleLR(pct_start=0.25,
  div_factor=25, final_div_factor=4000, base_momentum=0.85, max_momentum=0.95)`; the LR is stepped every batch.
- each epoch ends with a full validation pass that computes the loss and ROC-AUC, accuracy, sensitivity and
  specificity on the whole validation set (what the fastai metrics do).
- the fastai side runs without callbacks that do I/O: no progress bar, no logging, no checkpoints, no CSV log.

The two runs alternate (fastai first in even pairs, plain first in odd pairs) so that drifts in machine load hit both
alike; the ratio is taken within each pair and the median over pairs is printed last. Wall time (perf_counter) is the
headline; process CPU time is printed beside it, since the machine may be shared.
`--naive` measures a naive fastai setup instead: fastai's own `Adam`, fastai tensor subclasses reaching the model,
progress bar on; `--opt adam`, `--no-plain` and `--bar` switch these one at a time.
"""
import argparse, contextlib, io, time, os, sys
import numpy as np, torch

p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
p.add_argument('--pairs', type=int, default=5)
p.add_argument('--epochs', type=int, default=2)
p.add_argument('--threads', type=int, default=1, help='torch threads (1 is fastest on a shared 2-core machine)')
p.add_argument('--arch', default='pmnist_cnn')
p.add_argument('--bs', type=int, default=128)
p.add_argument('--lr', type=float, default=1e-3)
p.add_argument('--naive', action='store_true', help='fastai Adam, TensorImage to the model, progress bar on (= --opt adam --no-plain --bar)')
p.add_argument('--opt', default='adamw', choices=['adamw', 'adam'], help="fastai side: 'adamw' (torch AdamW, the package default) or 'adam' (fastai's Adam)")
p.add_argument('--no-plain', action='store_true', help='fastai side: let TensorImage/TensorCategory reach the model (no PlainTensors)')
p.add_argument('--bar', action='store_true', help='fastai side: progress bar and epoch table on (drawn into a buffer)')
p.add_argument('--profile', action='store_true', help='cProfile one fastai epoch and print the top entries')
args = p.parse_args()
if args.naive: args.opt, args.no_plain, args.bar = 'adam', True, True
setup = f"fastai opt={args.opt}, {'subclassed' if args.no_plain else 'plain'} tensors to the model, progress bar {'on' if args.bar else 'off'}"
torch.set_num_threads(args.threads)

from sklearn.metrics import roc_auc_score
from fastai.optimizer import Adam
from pneumo_nb.core import set_seed, probs_from_logits, find_data
from pneumo_nb.data import load_pneumoniamnist
from pneumo_nb.train import tensor_dls
from pneumo_nb.models import get_model, n_params
from pneumo_nb.balance import class_weights
from pneumo_nb.train import make_learner, BinaryLoss, PlainTensors
from timing import alternate, ratios, median

root = find_data('pneumoniamnist')
xt, yt = load_pneumoniamnist('train', root=root)
xv, yv = load_pneumoniamnist('val', root=root)
W = class_weights(yt)

def val_metrics(logits, y):
    p = probs_from_logits(logits).numpy(); y = y.numpy()
    pred = p >= 0.5
    return dict(auc=roc_auc_score(y, p), acc=(pred == (y == 1)).mean(), sens=pred[y == 1].mean(), spec=(~pred)[y == 0].mean())

def run_fastai(seed):
    set_seed(seed)
    dls = tensor_dls(xt, yt, xv, yv, bs=args.bs, aug=False, norm='dataset', device='cpu', seed=seed)
    set_seed(seed)
    learn = make_learner(dls, arch=args.arch, save_best=False, csv_log=False, fast=not args.no_plain, opt=args.opt, wd=1e-4, progress='bar')
    t0, c0 = time.perf_counter(), time.process_time()
    if args.bar:  # the progress bar and epoch table are drawn (their cost counts) but not shown
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()): learn.fit_one_cycle(args.epochs, args.lr)
    else:
        with learn.no_bar(), learn.no_logging(): learn.fit_one_cycle(args.epochs, args.lr)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return wall, cpu, learn.history[-1]['roc_auc']

def run_plain(seed):
    set_seed(seed)
    x, y = torch.as_tensor(xt)[:, None], torch.as_tensor(yt)
    xva, yva = torch.as_tensor(xv)[:, None], torch.as_tensor(yv)
    mean, std = (x.float() / 255).mean(), (x.float() / 255).std()
    set_seed(seed)
    model = get_model(args.arch, img_size=28)
    loss_fn = BinaryLoss(W)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, eps=1e-5, weight_decay=1e-4, betas=(0.95, 0.99), foreach=True)
    nb = len(x) // args.bs
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=args.epochs * nb, pct_start=0.25,
                                                div_factor=25., final_div_factor=4000., base_momentum=0.85, max_momentum=0.95)
    t0, c0 = time.perf_counter(), time.process_time()
    for ep in range(args.epochs):
        model.train()
        perm = torch.randperm(len(x))
        for i in range(nb):
            b = perm[i * args.bs:(i + 1) * args.bs]
            xb = (x[b].float() / 255 - mean) / std
            loss = loss_fn(model(xb), y[b])
            loss.backward(); opt.step(); opt.zero_grad(); sched.step()
        model.eval(); outs, tot = [], 0.
        with torch.no_grad():
            for i in range(0, len(xva), 2 * args.bs):
                o = model((xva[i:i + 2 * args.bs].float() / 255 - mean) / std)
                tot += loss_fn(o, yva[i:i + 2 * args.bs]).item() * len(o); outs.append(o)
        m = val_metrics(torch.cat(outs), yva)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return wall, cpu, m['auc']

if args.profile:
    import cProfile, pstats
    set_seed(0)
    dls = tensor_dls(xt, yt, xv, yv, bs=args.bs, aug=False, device='cpu', seed=0)
    learn = make_learner(dls, arch=args.arch, save_best=False, csv_log=False, fast=not args.no_plain, opt=args.opt)
    with learn.no_bar(), learn.no_logging(): cProfile.run('learn.fit_one_cycle(1, args.lr)', '/tmp/train_speed.prof')
    pstats.Stats('/tmp/train_speed.prof').sort_stats('tottime').print_stats(25)
    sys.exit()

print(f"arch {args.arch} ({n_params(get_model(args.arch)):,} params), {len(xt)} train / {len(xv)} val images, bs {args.bs}, "
      f"{args.epochs} epochs, {args.threads} thread(s); {setup}")
def pair_line(k, f, p):
    (fw, fc, fa), (pw, pc, pa) = f, p
    print(f"pair {k}: fastai {fw:6.1f} s (cpu {fc:6.1f}, val AUC {fa:.3f}) | plain {pw:6.1f} s (cpu {pc:6.1f}, val AUC {pa:.3f}) "
          f"| ratio {fw / pw:.3f} (cpu {fc / pc:.3f})", flush=True)
done = {}
def side(name, fn):   # a pair's line is printed when its second run ends
    def f(k):
        done.setdefault(k, {})[name] = r = fn(k)
        if len(done[k]) == 2: pair_line(k, done[k]['fastai'], done[k]['plain'])
        return r
    return f
fa_res, pl_res = alternate(side('fastai', run_fastai), side('plain', run_plain), args.pairs)   # fastai first in even pairs
ratios_, cratios = ratios([r[0] for r in fa_res], [r[0] for r in pl_res]), ratios([r[1] for r in fa_res], [r[1] for r in pl_res])
print(f"median CPU-time ratio fastai/plain: {median(cratios):.2f}")
print(f"median time ratio fastai/plain: {median(ratios_):.2f}")

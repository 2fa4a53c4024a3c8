"""Honest PneumoniaMNIST 28px recipe research (issue 8), plain PyTorch.

Everything is chosen on train/val; test is only read to report.
Final recipe: python recipe.py --preset best --seeds 0 1 2   (BEST below; ablations: --flag value, see `Cfg`)
"""
import os, time, json, math, argparse, dataclasses
import numpy as np, torch, torch.nn as nn, torch.nn.functional as F
from sklearn.metrics import roc_auc_score

@dataclasses.dataclass
class Cfg:
    name: str = 'base'
    width: int = 16          # channels of stage 1 (stages: w, 2w, 4w)
    blocks: int = 1          # residual blocks per stage
    size: int = 28           # input size (upsampled bilinearly on the fly when > 28)
    epochs: int = 12
    bs: int = 128
    lr: float = 3e-3         # one-cycle max LR (AdamW)
    wd: float = 5e-2
    drop: float = 0.2        # dropout before the linear head
    cw: str = 'none'         # 'none' | 'balanced' (inverse-frequency weights in BCE)
    norm: str = 'dataset'    # 'dataset' (global mean/std) | 'image' (per-image standardisation)
    flip: float = 0.5        # P(horizontal flip)
    affine: float = 0.0      # strength: rot +-10*a deg, scale 1+-0.1*a, translate +-0.1*a
    intensity: float = 0.0   # strength: brightness +-0.1*a, contrast x(1+-0.2*a), gamma exp(+-0.3*a)
    mixup: float = 0.0       # Beta(alpha,alpha); 0 = off
    ls: float = 0.0          # label smoothing for BCE
    tta: int = 1             # 1: none, 2: + horizontal flip
    threads: int = 1

# The final recipe (issue 8, `--preset best`): every choice made on train/val (see ABLATION.md).
BEST = dict(name='best', width=16, blocks=1, size=28, epochs=20, bs=128, lr=3e-3, wd=5e-2, drop=0.2, cw='balanced',
            norm='dataset', flip=0.5, affine=1.0, intensity=1.0, mixup=0.0, ls=0.0, tta=2)

def load(root=None):
    root = root or os.environ.get('PNEUMO_DATA', '/work/shared/data')
    d = np.load(os.path.join(root, 'pneumoniamnist', 'pneumoniamnist.npz'))
    out = {}
    for s in ('train', 'val', 'test'):
        x = torch.tensor(d[f'{s}_images'], dtype=torch.float32)[:, None] / 255.
        y = torch.tensor(d[f'{s}_labels'][:, 0], dtype=torch.float32)
        out[s] = (x, y)
    return out

# ---------------------------------------------------------------- model
class Block(nn.Module):
    def __init__(self, ni, nf, stride):
        super().__init__()
        self.c1 = nn.Conv2d(ni, nf, 3, stride, 1, bias=False); self.b1 = nn.BatchNorm2d(nf)
        self.c2 = nn.Conv2d(nf, nf, 3, 1, 1, bias=False); self.b2 = nn.BatchNorm2d(nf)
        self.sc = None if (ni == nf and stride == 1) else nn.Sequential(
            nn.AvgPool2d(stride) if stride > 1 else nn.Identity(), nn.Conv2d(ni, nf, 1, bias=False), nn.BatchNorm2d(nf))
    def forward(self, x):
        r = x if self.sc is None else self.sc(x)
        x = F.relu(self.b1(self.c1(x)))
        return F.relu(self.b2(self.c2(x)) + r)

class SmallResNet(nn.Module):
    "stem conv3x3(1->w)+BN+ReLU; stages (w,2w,4w) of `blocks` BasicBlocks, stride 1/2/2; GAP; dropout; linear->1 logit"
    def __init__(self, width=16, blocks=1, drop=0.2):
        super().__init__()
        w = width
        self.stem = nn.Sequential(nn.Conv2d(1, w, 3, 1, 1, bias=False), nn.BatchNorm2d(w), nn.ReLU())
        layers, ni = [], w
        for i, nf in enumerate((w, 2 * w, 4 * w)):
            for b in range(blocks):
                layers.append(Block(ni, nf, 2 if (b == 0 and i > 0) else 1)); ni = nf
        self.body = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(drop), nn.Linear(ni, 1))
    def forward(self, x): return self.head(self.body(self.stem(x)))[:, 0]

# ---------------------------------------------------------------- batch transforms on float [B,1,H,W] in [0,1]
def tfm_resize(x, size):
    return x if x.shape[-1] == size else F.interpolate(x, size=(size, size), mode='bilinear', align_corners=False)

def tfm_flip(x, p):
    if p <= 0: return x
    m = torch.rand(x.shape[0], device=x.device) < p
    return torch.where(m[:, None, None, None], x.flip(-1), x)

def tfm_affine(x, a):
    "random rotation/scale/translation via affine_grid (reflection padding)"
    if a <= 0: return x
    B = x.shape[0]
    ang = (torch.rand(B) * 2 - 1) * math.radians(10 * a)
    sc = 1 + (torch.rand(B) * 2 - 1) * 0.1 * a
    tx, ty = [(torch.rand(B) * 2 - 1) * 0.2 * a for _ in range(2)]   # 0.2 in [-1,1] coords = 10% of width
    cos, sin = torch.cos(ang) / sc, torch.sin(ang) / sc
    theta = torch.stack([torch.stack([cos, -sin, tx], 1), torch.stack([sin, cos, ty], 1)], 1)
    grid = F.affine_grid(theta, x.shape, align_corners=False)
    return F.grid_sample(x, grid, mode='bilinear', padding_mode='reflection', align_corners=False)

def tfm_intensity(x, a):
    "per-image gamma, contrast (around the image mean) and brightness jitter; x in [0,1]"
    if a <= 0: return x
    B = x.shape[0]; r = lambda: (torch.rand(B, 1, 1, 1) * 2 - 1)
    x = x.clamp(1e-4, 1) ** torch.exp(r() * 0.3 * a)
    m = x.mean((1, 2, 3), keepdim=True)
    x = (x - m) * (1 + r() * 0.2 * a) + m + r() * 0.1 * a
    return x.clamp(0, 1)

def tfm_norm(x, kind, stats):
    if kind == 'image':
        return (x - x.mean((1, 2, 3), keepdim=True)) / (x.std((1, 2, 3), keepdim=True) + 1e-5)
    return (x - stats[0]) / stats[1]

def train_tfms(x, c, stats):
    x = tfm_resize(x, c.size)
    x = tfm_flip(x, c.flip); x = tfm_affine(x, c.affine); x = tfm_intensity(x, c.intensity)
    return tfm_norm(x, c.norm, stats)

def eval_tfms(x, c, stats): return tfm_norm(tfm_resize(x, c.size), c.norm, stats)

# ---------------------------------------------------------------- train / predict
def train_recipe(seed, c=Cfg(), data=None, log=print):
    torch.manual_seed(seed); np.random.seed(seed)
    torch.set_num_threads(c.threads)
    data = data or load()
    x, y = data['train']
    stats = (x.mean().item(), x.std().item())
    n1 = y.sum().item(); n0 = len(y) - n1
    # inverse-frequency class weights normalised so the mean weight over the train set is 1
    w0, w1 = (len(y) / (2 * n0), len(y) / (2 * n1)) if c.cw == 'balanced' else (1., 1.)
    m = SmallResNet(c.width, c.blocks, c.drop)
    opt = torch.optim.AdamW(m.parameters(), lr=c.lr, weight_decay=c.wd)
    steps = c.epochs * math.ceil(len(x) / c.bs)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=c.lr, total_steps=steps, pct_start=0.25)
    g = torch.Generator().manual_seed(seed)
    t0, c0 = time.time(), time.process_time()
    for ep in range(c.epochs):
        m.train(); perm = torch.randperm(len(x), generator=g); tot = 0.
        for i in range(0, len(x), c.bs):
            idx = perm[i:i + c.bs]
            xb, yb = train_tfms(x[idx], c, stats), y[idx]
            wb = torch.where(yb > 0.5, torch.tensor(w1), torch.tensor(w0))
            if c.mixup > 0:
                lam = float(np.random.beta(c.mixup, c.mixup)); j = torch.randperm(len(idx))
                xb = lam * xb + (1 - lam) * xb[j]; yb = lam * yb + (1 - lam) * yb[j]; wb = lam * wb + (1 - lam) * wb[j]
            if c.ls > 0: yb = yb * (1 - c.ls) + 0.5 * c.ls
            loss = (F.binary_cross_entropy_with_logits(m(xb), yb, reduction='none') * wb).mean()
            opt.zero_grad(); loss.backward(); opt.step(); sched.step(); tot += loss.item() * len(idx)
        log(f'  ep {ep} loss {tot / len(x):.4f} t {time.time() - t0:.0f}s')
    m.train_time = time.time() - t0
    m.cpu_time = time.process_time() - c0   # ~ wall time on an idle core when threads=1
    m.stats = stats
    return m

@torch.no_grad()
def predict(m, x, c, bs=512):
    m.eval(); out = []
    for i in range(0, len(x), bs):
        xb = eval_tfms(x[i:i + bs], c, m.stats)
        p = torch.sigmoid(m(xb))
        if c.tta >= 2: p = (p + torch.sigmoid(m(xb.flip(-1)))) / 2
        out.append(p)
    return torch.cat(out).numpy()

def shifted(x):
    "harder, intensity-shifted copy of val: every image at gamma 0.7 and 1.4 and contrast x0.8 / x1.2 (deterministic)"
    outs = []
    for gmm in (0.7, 1.4): outs.append(x.clamp(1e-4, 1) ** gmm)
    for k in (0.8, 1.2):
        mu = x.mean((1, 2, 3), keepdim=True); outs.append(((x - mu) * k + mu).clamp(0, 1))
    return torch.cat(outs)

def metrics(p, y):
    y = np.asarray(y); pr = p >= 0.5
    return dict(auc=roc_auc_score(y, p), acc=(pr == y).mean(), sens=pr[y == 1].mean(), spec=(~pr)[y == 0].mean(),
                nll=float(-np.mean(y * np.log(p + 1e-7) + (1 - y) * np.log(1 - p + 1e-7))))

def evaluate(m, c, data, probs=None):
    "metrics on val, intensity-shifted val and test, without and with flip TTA; fills `probs` with the probabilities"
    r = {}
    xv, yv = data['val']; xt, yt = data['test']
    for tta in (1, 2):
        ct = dataclasses.replace(c, tta=tta); sfx = '' if tta == 1 else '_tta'
        pv, ps, pt = predict(m, xv, ct), predict(m, shifted(xv), ct), predict(m, xt, ct)
        r['val' + sfx] = metrics(pv, yv.numpy())
        r['valshift' + sfx] = metrics(ps, np.tile(yv.numpy(), 4))
        r['test' + sfx] = metrics(pt, yt.numpy())
        if probs is not None: probs.update({'val' + sfx: pv, 'valshift' + sfx: ps, 'test' + sfx: pt})
    return r

def fmt(r): return ' | '.join(f"{k} auc {v['auc']:.4f} acc {v['acc']:.4f} sens {v['sens']:.3f} spec {v['spec']:.3f} nll {v['nll']:.3f}" for k, v in r.items())

if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('--seeds', type=int, nargs='+', default=[0])
    ap.add_argument('--preset', choices=['base', 'best'], default='base', help="'best' = the final recipe (BEST)")
    for f in dataclasses.fields(Cfg):
        ap.add_argument('--' + f.name, type=type(f.default), default=None)
    a = ap.parse_args()
    kw = dict(BEST) if a.preset == 'best' else {}
    kw.update({f.name: getattr(a, f.name) for f in dataclasses.fields(Cfg) if getattr(a, f.name) is not None})
    c = Cfg(**kw)
    data = load()
    logdir = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'logs')
    os.makedirs(logdir, exist_ok=True)
    print('cfg', dataclasses.asdict(c), flush=True)
    allr = []
    for s in a.seeds:
        m = train_recipe(s, c, data, log=lambda t: print(t, flush=True))
        probs = {}
        r = evaluate(m, c, data, probs)
        np.savez_compressed(os.path.join(logdir, f'probs_{c.name}_s{s}.npz'), **probs)
        print(f'RESULT {c.name} seed {s} time {m.train_time:.1f}s cpu {m.cpu_time:.1f}s | {fmt(r)}', flush=True)
        with open(os.path.join(logdir, 'results.jsonl'), 'a') as f:
            f.write(json.dumps(dict(name=c.name, seed=s, time=m.train_time, cpu=m.cpu_time, cfg=dataclasses.asdict(c), **r)) + '\n')
        allr.append((m.train_time, m.cpu_time, r))
    sfx = '_tta' if c.tta >= 2 else ''
    ms = lambda v: f'{np.mean(v):.4f} +- {np.std(v):.4f}'
    print(f'SUMMARY {c.name} seeds {a.seeds} (tta={c.tta}): wall s/seed {ms([t for t, _, _ in allr])}, cpu s/seed {ms([u for _, u, _ in allr])}')
    for split in ('val', 'test'):
        for k in ('auc', 'acc', 'sens', 'spec'):
            print(f'  {split} {k}: {ms([r[split + sfx][k] for _, _, r in allr])}')

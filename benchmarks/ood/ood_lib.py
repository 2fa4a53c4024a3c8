"""Out-of-distribution check of a pneumo_nb run: research version of what becomes `pneumo_nb/ood.py` (notebook 17_ood).

A run knows what its training X-rays look like: the penultimate features of its own network (the input of the last
linear layer, globally average-pooled conv maps). `fit_detector` fits one mean per class and one shared shrinkage
(Ledoit-Wolf) covariance on the training split; the score of an image is its Mahalanobis distance to the nearest class
mean, divided by a threshold chosen from training and validation X-rays only, validation under declared shifts included.
So `ood_score > 1` means "flagged", for every scorer. Cheap checks run before the model: a DICOM whose Modality is not a
radiograph, and colour photographs.

Imports to switch when the refactor lands (module: now -> after the "Redesign:" commit):
  pneumo_nb.core.atomic_write, PneumoError, CheckpointError, UsageError, plural  -> pneumo_nb.core (00, unchanged)
  pneumo_nb.data.read_xray, preprocess_xray, is_dicom                             -> pneumo_nb.decode (01)
  shift functions (_blur, _down_up, _jpeg, _contrast below)                        -> pneumo_nb.imageops (02): gaussian_blur, down_up, jpeg, contrast
  pneumo_nb.data.to_model_input                                                   -> pneumo_nb.data (03)
  pneumo_nb.models.features_head                                                  -> pneumo_nb.models (05)
  pneumo_nb.evaluate.predict_arrays, TTA                                          -> pneumo_nb.inference (07)
"""
from __future__ import annotations
import json, warnings
from pathlib import Path
from concurrent.futures import ThreadPoolExecutor
import numpy as np
import torch, torch.nn.functional as F
from PIL import Image

from pneumo_nb.core import atomic_write, PneumoError, CheckpointError, UsageError, plural
from pneumo_nb.data import read_xray, preprocess_xray, is_dicom, to_model_input
from pneumo_nb.models import features_head

OOD_FILE = 'ood.npz'   # in the run folder, beside model.pth
OOD_FORMAT = 'pneumo_nb.ood/1'

# --------------------------------------------------------------------------------------------------------------------
# Cheap checks before the model
RADIOGRAPH_MODALITIES = ('CR', 'DX', 'RG', 'DR')   # computed / digital radiography, radiographic imaging
# DICOM defined terms (PS3.3 C.7.3.1.1.1): only these are ever printed; any other value is called "unrecognised"
MODALITY_NAMES = dict(CT='computed tomography', MR='magnetic resonance', US='ultrasound', NM='nuclear medicine', PT='PET',
                      MG='mammography', XA='X-ray angiography', RF='radiofluoroscopy', OT='other', SC='secondary capture',
                      RTDOSE='radiotherapy dose', RTPLAN='radiotherapy plan', RTSTRUCT='radiotherapy structure set',
                      RTIMAGE='radiotherapy image', SR='structured report', ECG='electrocardiogram', OP='ophthalmic photography',
                      OPT='ophthalmic tomography', XC='external-camera photography', ES='endoscopy', GM='general microscopy',
                      SM='slide microscopy', IO='intra-oral radiography', PX='panoramic X-ray', DOC='document', KO='key object',
                      PR='presentation state', BI='biomagnetic imaging', DG='diaphanography', TG='thermography', HD='hemodynamic waveform',
                      IVUS='intravascular ultrasound', OCT='optical coherence tomography', BMD='bone densitometry', SEG='segmentation',
                      REG='registration', PLAN='plan', AU='audio', EPS='cardiac electrophysiology', LS='laser surface scan',
                      OSS='optical surface scan', CTPROTOCOL='CT protocol', XAPROTOCOL='XA protocol', M3D='3D manufacturing model')
COLOUR_LIMIT = 8.0   # Hasler-Suesstrunk colourfulness above which an image is a colour picture, not a radiograph (0: grey; 15: "slightly colourful")

def dicom_modality(path) -> str|None:
    "The Modality of a DICOM file, upper-case (None when absent or unreadable); the header is read without its pixels."
    import pydicom
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            m = pydicom.dcmread(path, stop_before_pixels=True, specific_tags=['Modality'], force=True).get('Modality')
    except Exception: return None
    m = str(m or '').strip().upper()
    return m or None

def modality_note(m:str|None) -> str|None:
    "Why a DICOM Modality is not a radiograph (None when it is one, or absent); names only DICOM defined terms, never free text."
    if m is None or m in RADIOGRAPH_MODALITIES: return None
    if m in MODALITY_NAMES: return f"DICOM Modality {m} ({MODALITY_NAMES[m]}), not a radiograph"
    return "DICOM Modality is an unrecognised value, not a radiograph (CR, DX)"

def colourfulness(im:Image.Image, side:int=64) -> float:
    "Hasler & Suesstrunk (2003) colourfulness of an image (0 for grey), on a thumbnail of `side` px."
    if im.mode != 'RGB': return 0.0
    t = im.copy(); t.thumbnail((side, side))
    a = np.asarray(t, np.float32)
    rg, yb = a[..., 0] - a[..., 1], 0.5 * (a[..., 0] + a[..., 1]) - a[..., 2]
    return float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))

def read_files_checked(files, # image files
                       raw:dict, # the run's raw preprocessing
                       n_workers:int=2 # threads decoding in parallel
                      ) -> tuple:
    "`read_files` plus the cheap checks, from one decode: `(x, ok, skipped, notes)`, `notes[i]` the reason `ok[i]` is not a radiograph (or None)."
    def _one(f):
        try:
            im = read_xray(f)
            note = modality_note(dicom_modality(f)) if is_dicom(f) else None
            if note is None and im.mode == 'RGB':
                c = colourfulness(im)
                if c > COLOUR_LIMIT: note = f"a colour picture (colourfulness {c:.0f} > {COLOUR_LIMIT:.0f}), not a radiograph"
            return preprocess_xray(im, raw), None, note
        except PneumoError as e: return None, str(e), None
        except Exception as e: return None, f"{f} cannot be used as an X-ray: {type(e).__name__}: {str(e)[:160]}", None
    files = [str(f) for f in files]
    if n_workers > 1 and len(files) > 8:
        with ThreadPoolExecutor(n_workers) as ex: res = list(ex.map(_one, files))
    else: res = [_one(f) for f in files]
    ok = [f for f, (a, e, n) in zip(files, res) if e is None]
    notes = [n for a, e, n in res if e is None]
    skipped = [(f, e) for f, (a, e, n) in zip(files, res) if e is not None]
    shape = (0, raw['size'], raw['size']) + ((3,) if raw['mode'] == 'RGB' else ())
    x = np.stack([a for a, e, n in res if e is None]) if ok else np.zeros(shape, np.uint8)
    return x, ok, skipped, notes

# --------------------------------------------------------------------------------------------------------------------
# Declared shifts of validation images (become pneumo_nb.imageops calls)
def _blur(x, sigma):
    r = max(1, int(3 * sigma + 0.5)); t = torch.arange(-r, r + 1, dtype=torch.float32)
    k = torch.exp(-t ** 2 / (2 * sigma ** 2)); k = (k / k.sum()).to(x)
    c = x.shape[1]; x = F.pad(x, (r, r, r, r), mode='reflect')
    return F.conv2d(F.conv2d(x, k.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c), k.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)

def _down_up(x, factor):
    s = x.shape[-2:]; d = (max(4, round(s[0] * factor)), max(4, round(s[1] * factor)))
    return F.interpolate(F.interpolate(x, size=d, mode='bilinear', antialias=True, align_corners=False),
                         size=s, mode='bilinear', align_corners=False).clamp(0, 1)

def _jpeg(x, quality):
    import io
    out = []
    for im in (x * 255).round().clamp(0, 255).to(torch.uint8).cpu().numpy():
        b = io.BytesIO(); Image.fromarray(im[0] if im.shape[0] == 1 else im.transpose(1, 2, 0)).save(b, 'JPEG', quality=quality)
        a = np.asarray(Image.open(b), np.float32) / 255.
        out.append(torch.from_numpy(a[None] if a.ndim == 2 else a.transpose(2, 0, 1)))
    return torch.stack(out).to(x)

def _contrast(x, k): mu = x.mean((1, 2, 3), keepdim=True); return ((x - mu) * k + mu).clamp(0, 1)

def _squish(x, f, axis=-1):
    "Content squished along `axis` by `f` < 1 (reflect-filled borders, a wider field of view) or stretched by `f` > 1 (centre kept)."
    H, W = x.shape[-2:]; n = H if axis == -2 else W
    m = max(4, round(n * f)); size = (m, W) if axis == -2 else (H, m)
    y = F.interpolate(x, size=size, mode='bilinear', antialias=True, align_corners=False)
    if m >= n:
        o = (m - n) // 2
        return y[..., o:o + n, :] if axis == -2 else y[..., o:o + n]
    a = (n - m) // 2; b = n - m - a
    return F.pad(y, (0, 0, a, b) if axis == -2 else (a, b, 0, 0), mode='reflect').clamp(0, 1)

def declared_shifts(side:int) -> dict:
    "The shifts a real X-ray from another copy or site may show, sized for images of `side` px: name -> f(float batch in [0,1])."
    s = side / 28
    return {'blur': lambda x: _blur(x, 0.6 * s), 'down-up': lambda x: _down_up(x, 0.5),
            'jpeg': lambda x: _jpeg(x, 50), 'squish': lambda x: _squish(x, 0.8), 'stretch': lambda x: _squish(x, 1.25),
            'contrast-': lambda x: _contrast(x, 0.7), 'contrast+': lambda x: _contrast(x, 1.3)}

def shifted(x:np.ndarray, name:str, side:int|None=None) -> np.ndarray:
    "uint8 images `x` ([N,H,W] or [N,H,W,3]) under one declared shift."
    t = torch.as_tensor(np.asarray(x)).float().div(255.)
    t = t[:, None] if t.ndim == 3 else t.permute(0, 3, 1, 2)
    y = declared_shifts(side or x.shape[1])[name](t)
    y = (y * 255).round().clamp(0, 255).to(torch.uint8)
    return (y[:, 0] if x.ndim == 3 else y.permute(0, 2, 3, 1)).numpy()

# --------------------------------------------------------------------------------------------------------------------
# Features and the detector
def _pool(o): return o.float().mean((-2, -1)) if o.ndim == 4 else o.float().flatten(1)

def pooled_features(model, x, batch:dict, bs:int=256) -> np.ndarray:
    "Penultimate features `[N, D]` of uint8 images `x`: the run's features module, globally average-pooled."
    feats, _ = features_head(model)
    was = model.training; model.eval(); out = []
    dev = next(model.parameters()).device
    try:
        with torch.inference_mode():
            for i in range(0, len(x), bs):
                out.append(_pool(feats(to_model_input(x[i:i + bs], batch).to(dev))).cpu())
    finally: model.train(was)
    return torch.cat(out).numpy().astype(np.float64) if out else np.zeros((0, 0))

class FeatureTap:
    "Context manager that records the pooled penultimate features of every forward pass of `model` (one per image, TTA passes averaged)."
    def __init__(self, model, n_pass:int=1): self.model, self.n_pass, self.rows = model, n_pass, []
    def __enter__(self):
        self.h = features_head(self.model)[0].register_forward_hook(lambda m, i, o: self.rows.append(_pool(o).cpu()))
        return self
    def __exit__(self, *a): self.h.remove()
    def features(self) -> np.ndarray:
        "`[N, D]`: the identity pass of each batch (the first of its `n_pass` passes)."
        g = self.rows[::self.n_pass]
        return torch.cat(g).numpy().astype(np.float64) if g else np.zeros((0, 0))

class OODDetector:
    "Class-conditional Mahalanobis distance on a run's penultimate features; `score(f) > 1` means out of distribution."
    def __init__(self, means, precision, threshold:float, info:dict):
        self.means, self.precision, self.threshold, self.info = np.asarray(means, np.float64), np.asarray(precision, np.float64), float(threshold), dict(info)
    def distance(self, f) -> np.ndarray:
        "Mahalanobis distance of features `[N, D]` to the nearest class mean."
        f = np.asarray(f, np.float64)
        d = np.stack([(((f - m) @ self.precision) * (f - m)).sum(1) for m in self.means], 1)
        return np.sqrt(np.maximum(d.min(1), 0))
    def score(self, f) -> np.ndarray: return self.distance(f) / self.threshold
    def save(self, path) -> Path:
        "Write the detector as one small `.npz` (float64 arrays + a JSON description), atomically."
        path = Path(path)
        with atomic_write(path) as tmp:
            with open(tmp, 'wb') as fh:
                np.savez(fh, means=self.means, precision=self.precision, threshold=np.float64(self.threshold),
                         info=np.array(json.dumps(dict(self.info, format=OOD_FORMAT))))
        return path
    @classmethod
    def load(cls, path):
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as z:
                return cls(z['means'], z['precision'], float(z['threshold']), json.loads(str(z['info'])))
        except (OSError, KeyError, ValueError) as e:
            raise CheckpointError(f"{path} is not a pneumo_nb out-of-distribution detector ({type(e).__name__}); fit it again.") from None
    def __repr__(self): return f"OODDetector({self.means.shape[1]} features, {len(self.means)} class means, threshold {self.threshold:.2f})"

def fit_gaussian(f, y) -> tuple:
    "One mean per class and the precision of their shared Ledoit-Wolf covariance, from training features `f` and labels `y`."
    from sklearn.covariance import LedoitWolf
    f, y = np.asarray(f, np.float64), np.asarray(y)
    cls = np.unique(y)
    means = np.stack([f[y == c].mean(0) for c in cls])
    lw = LedoitWolf().fit(f - means[np.searchsorted(cls, y)])
    return means, lw.precision_, float(lw.shrinkage_)

QUANTILE, MARGIN = 0.99, 1.1   # the declared rule: threshold = MARGIN x the largest QUANTILE of val and of each shifted val

def choose_threshold(d_val:np.ndarray, d_shift:dict, q:float=QUANTILE, margin:float=MARGIN) -> tuple:
    "Threshold = `margin` x the largest `q`-quantile of validation distances and of each declared shift's; `(threshold, per-set quantiles)`."
    qs = {'valid': float(np.quantile(d_val, q)), **{k: float(np.quantile(v, q)) for k, v in d_shift.items()}}
    return margin * max(qs.values()), qs

def fit_detector(model, batch:dict, x_train, y_train, x_val, side:int|None=None, q:float=QUANTILE, margin:float=MARGIN,
                 described:str='') -> tuple:
    "Fit on training images, threshold from validation and shifted validation images: `(OODDetector, distances per set)`."
    side = side or x_train.shape[1]
    ft = pooled_features(model, x_train, batch)
    means, prec, shrink = fit_gaussian(ft, y_train)
    det = OODDetector(means, prec, 1.0, {})
    d = {'train': det.distance(ft), 'valid': det.distance(pooled_features(model, x_val, batch))}
    sh = {k: det.distance(pooled_features(model, shifted(x_val, k, side), batch)) for k in declared_shifts(side)}
    t, qs = choose_threshold(d['valid'], sh, q, margin)
    det.threshold = t
    det.info = dict(layer='penultimate (global average pool of the features module)', n_features=int(ft.shape[1]),
                    classes=[int(c) for c in np.unique(y_train)], shrinkage=shrink, n_train=int(len(ft)), n_valid=int(len(x_val)),
                    shifts=list(sh), side=int(side), rule=f"threshold = {margin} x the largest {q:.0%} quantile of validation "
                    f"distances and of each shifted validation copy ({', '.join(sh)})", quantiles=qs, fitted_on=described)
    d.update({f'valid+{k}': v for k, v in sh.items()})
    return det, d

def ood_summary(df, limit:int=5) -> str|None:
    "The one line that says how many scored images are not like the training X-rays (None when none is)."
    n = int(df.ood.sum())
    if not n: return None
    names = [Path(p).name for p in df.path[df.ood]][:limit]
    return (f"{n} of {plural(len(df), 'image')} do not look like the chest X-rays this model was trained on; their scores mean "
            f"nothing: {', '.join(names)}" + (f" and {n - limit} more" if n > limit else '') + '.')

# --------------------------------------------------------------------------------------------------------------------
# v2: several components (stage outputs of the network, mean and spatial std per channel; pixels at 16 px), one
# Mahalanobis distance each, each with its own threshold by the same declared rule; ood_score = the largest ratio.
PIXEL_SIDE = 16

def stage_modules(model) -> list:
    "The last module of each spatial resolution in the network's features module (the whole module when it is not a Sequential)."
    feats, _ = features_head(model)
    kids = list(feats.children()) if isinstance(feats, torch.nn.Sequential) else [feats]
    n_in = getattr(model, 'n_in', 1); s = getattr(model, 'img_size', (64, 64))
    x, res, was = torch.zeros(1, n_in, *s), [], feats.training
    feats.eval()
    with torch.no_grad():
        for k in kids: x = k(x); res.append(tuple(x.shape[-2:]) if x.ndim == 4 else ('flat',))
    feats.train(was)
    return [k for i, k in enumerate(kids) if i == len(kids) - 1 or res[i + 1] != res[i]][-3:]

def _mean_std(o):
    if o.ndim != 4: return o.float().flatten(1)
    v, m = torch.var_mean(o.float().flatten(2), -1)
    return torch.cat([m, v.clamp_min(0).sqrt()], 1)

class StageTap:
    "Records mean and spatial std per channel of the stage outputs of the identity pass of each batch (`n_pass`: passes per batch, TTA included)."
    def __init__(self, model, n_pass:int=1):
        self.mods, self.n_pass = stage_modules(model), n_pass
        self.rows, self.calls = [[] for _ in self.mods], [0] * len(self.mods)
    def _hook(self, j, o):
        if self.calls[j] % self.n_pass == 0: self.rows[j].append(_mean_std(o).cpu())   # the identity pass only
        self.calls[j] += 1
    def __enter__(self):
        self.hs = [m.register_forward_hook(lambda mod, i, o, j=j: self._hook(j, o)) for j, m in enumerate(self.mods)]
        return self
    def __exit__(self, *a):
        for h in self.hs: h.remove()
    def features(self) -> dict:
        out = {}
        for j, g in enumerate(self.rows):   # the identity pass of each batch (tta_batch_probs runs it first)
            out[f'stage{j}'] = torch.cat(g).numpy().astype(np.float64) if g else np.zeros((0, 0))
        return out

def pixel_features(x) -> np.ndarray:
    "The images as `PIXEL_SIDE` px grey pixels in [0, 1] (area-averaged): what the network sees, before it looks."
    t = torch.as_tensor(np.asarray(x)).float().div(255.)
    t = t[:, None] if t.ndim == 3 else t.permute(0, 3, 1, 2).mean(1, keepdim=True)
    return F.adaptive_avg_pool2d(t, PIXEL_SIDE).flatten(1).numpy().astype(np.float64)

def component_features(model, x, batch:dict, bs:int=256) -> dict:
    "component -> features `[N, D]` of uint8 images `x`: each stage of the network, and the pixels."
    was = model.training; model.eval(); dev = next(model.parameters()).device
    tap = StageTap(model)
    try:
        with tap, torch.inference_mode():
            for i in range(0, len(x), bs): model(to_model_input(x[i:i + bs], batch).to(dev))
    finally: model.train(was)
    return {**tap.features(), 'pixels': pixel_features(x)}

class MultiDetector:
    "One `OODDetector` per component; `score` = the largest of their scores (distance / own threshold)."
    def __init__(self, parts:dict, info:dict): self.parts, self.info = parts, dict(info)
    def scores(self, feats:dict) -> dict: return {k: d.score(feats[k]) for k, d in self.parts.items()}
    def score(self, feats:dict) -> np.ndarray: return np.max(np.stack(list(self.scores(feats).values())), 0)
    def save(self, path) -> Path:
        path = Path(path); arr = {}
        for k, d in self.parts.items(): arr.update({f'{k}.means': d.means, f'{k}.precision': d.precision, f'{k}.threshold': np.float64(d.threshold)})
        info = dict(self.info, format=OOD_FORMAT, components={k: d.info for k, d in self.parts.items()})
        with atomic_write(path) as tmp:
            with open(tmp, 'wb') as fh: np.savez(fh, info=np.array(json.dumps(info)), **arr)
        return path
    @classmethod
    def load(cls, path):
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as z:
                info = json.loads(str(z['info']))
                parts = {k: OODDetector(z[f'{k}.means'], z[f'{k}.precision'], float(z[f'{k}.threshold']), v) for k, v in info['components'].items()}
        except (OSError, KeyError, ValueError) as e:
            raise CheckpointError(f"{path} is not a pneumo_nb out-of-distribution detector ({type(e).__name__}); fit it again.") from None
        return cls(parts, {k: v for k, v in info.items() if k != 'components'})

def fit_multi(model, batch:dict, x_train, y_train, x_val, side:int|None=None, q:float=QUANTILE, margin:float=MARGIN, described:str='') -> tuple:
    "Fit every component on training images, each threshold by the declared rule: `(MultiDetector, {set: combined score})`."
    side = side or x_train.shape[1]
    ft, fv = component_features(model, x_train, batch), component_features(model, x_val, batch)
    fs = {k: component_features(model, shifted(x_val, k, side), batch) for k in declared_shifts(side)}
    parts = {}
    for c in ft:
        means, prec, shrink = fit_gaussian(ft[c], y_train)
        det = OODDetector(means, prec, 1.0, {})
        t, qs = choose_threshold(det.distance(fv[c]), {k: det.distance(v[c]) for k, v in fs.items()}, q, margin)
        det.threshold, det.info = t, dict(n_features=int(ft[c].shape[1]), shrinkage=shrink, quantiles=qs)
        parts[c] = det
    m = MultiDetector(parts, dict(components_rule='ood_score = the largest distance/threshold over the components',
                                  rule=f"each threshold = {margin} x the largest {q:.0%} quantile of validation distances and of each "
                                  f"shifted validation copy ({', '.join(fs)})", side=int(side), n_train=int(len(x_train)),
                                  n_valid=int(len(x_val)), fitted_on=described))
    d = {'train': m.score(ft), 'valid': m.score(fv), **{f'valid+{k}': m.score(v) for k, v in fs.items()}}
    return m, d

# --------------------------------------------------------------------------------------------------------------------
# Wiring drafts for phase 2 (runfolder / runs): fit for a run, read a run's detector, score with the forward passes
# predict_arrays already does. (`load_run`, `recorded_data`, `run_data`, `write_json` come from higher modules: these
# functions move to 22_runs, or take the arrays as arguments, when the refactor lands.)
NO_DETECTOR = ("{where} has no out-of-distribution detector ({file}), so its images are scored without an ood flag; add one "
               "from the run's recorded training split with: python -c \"from pneumo_nb.ood import add_detector; add_detector('{run}')\"")

def add_detector(run, # a run folder (or a reference model's name, writing into `dest`)
                 dest=None # folder to write ood.npz into (default: the run folder)
                ) -> Path:
    "Fit the run's detector on its recorded training split (threshold from its validation split), write `ood.npz` atomically and record it in run.json."
    from pneumo_nb.runs import load_run, recorded_data, write_json, sha256, RUN_FILES
    from pneumo_nb.data import run_data
    r = load_run(run); src = r.record['source']
    d = run_data(src['dataset'], recorded_data(src), r.record['config']['size'], raw=r.raw, split=r.split, splits=('train', 'valid'))
    (xt, yt), (xv, _) = d.xy('train'), d.xy('valid')
    det, _ = fit_multi(r.model, r.batch, np.asarray(xt), np.asarray(yt), np.asarray(xv), side=r.raw['size'],
                       described=f"{len(xt)} training and {len(xv)} validation images of the run's recorded split")
    folder = Path(dest) if dest is not None else r.path
    f = det.save(folder/OOD_FILE)
    rec = dict(r.record, ood=dict(file=OOD_FILE, sha256=sha256(f), rule=det.info['rule'], components=list(det.parts)))
    write_json(folder/RUN_FILES['record'], rec)
    return f

def run_detector(path) -> MultiDetector|None:
    "The detector stored in a run folder (None when the folder predates it)."
    f = Path(path)/OOD_FILE
    return MultiDetector.load(f) if f.is_file() else None

def predict_with_ood(model, # a run's network (or an ensemble's), as `predict_arrays` takes it
                     x, batch:dict, # uint8 images and the batch preprocessing
                     detectors:list, # [(network whose stages are tapped, its batch preprocessing, MultiDetector)]: one per run, several for an ensemble
                     bs:int=64, device=None) -> tuple:
    "`(probabilities, ood_score)`: one `predict_arrays` call; the stage features are tapped from its identity passes (no extra pass)."
    from pneumo_nb.evaluate import predict_arrays, TTA
    taps = [StageTap(m, 1 + len(TTA[b.get('tta')])) for m, b, _ in detectors]
    import contextlib
    with contextlib.ExitStack() as st:
        for t in taps: st.enter_context(t)
        p = predict_arrays(model, x, batch, bs=bs, device=device)
    pix = pixel_features(x)
    s = np.max(np.stack([d.score({**t.features(), 'pixels': pix}) for t, (_, _, d) in zip(taps, detectors)]), 0)
    return p, s

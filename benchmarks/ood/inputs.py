"""The input groups of the OOD benchmark, written as files under one folder (real files that ship in installed packages,
synthetic ones, and real X-rays in the forms users have). `python benchmarks/ood/inputs.py OUT` writes them."""
import sys, gzip, shutil, glob, os
from pathlib import Path
import numpy as np
from PIL import Image, ImageDraw

DATA = Path(os.environ.get('PNEUMO_DATA', '/work/shared/data'))

def _save(a, path):
    path.parent.mkdir(parents=True, exist_ok=True); Image.fromarray(a).save(path); return path

def synthetic(out:Path, side=256, seed=0):
    "Dev non-X-rays: noise, flat, gradient, text page (grey and colour), at two sizes."
    rng = np.random.default_rng(seed); o = out/'dev_synthetic'
    for s in (side, 1024):
        yy, xx = np.mgrid[0:s, 0:s] / (s - 1)
        _save((rng.random((s, s)) * 255).astype(np.uint8), o/f'noise_uniform_{s}.png')
        _save(np.clip(rng.normal(128, 40, (s, s)), 0, 255).astype(np.uint8), o/f'noise_gauss_{s}.png')
        _save((rng.random((s, s, 3)) * 255).astype(np.uint8), o/f'noise_rgb_{s}.png')
        for v in (0, 128, 255): _save(np.full((s, s), v, np.uint8), o/f'flat_{v}_{s}.png')
        _save((xx * 255).astype(np.uint8), o/f'gradient_h_{s}.png')
        _save((yy * 255).astype(np.uint8), o/f'gradient_v_{s}.png')
        _save((np.hypot(xx - .5, yy - .5) / .71 * 255).astype(np.uint8), o/f'gradient_radial_{s}.png')
        _save(np.stack([xx * 255, yy * 255, (1 - xx) * 255], -1).astype(np.uint8), o/f'gradient_rgb_{s}.png')
        im = Image.new('L', (s, int(s * 1.4)), 255); d = ImageDraw.Draw(im)
        for i in range(0, int(s * 1.4) - 12, 12): d.text((8, i), 'Lorem ipsum dolor sit amet, consectetur adipiscing elit ' * 3, fill=0)
        im.save(o/f'text_page_{s}.png')
        _save(255 - np.asarray(im), o/f'text_page_inverted_{s}.png')
        _save(((np.floor(xx * 8) + np.floor(yy * 8)) % 2 * 255).astype(np.uint8), o/f'checker_{s}.png')

def packages(out:Path):
    "Held-out non-X-rays: files that ship inside installed packages."
    import sklearn, matplotlib, pydicom
    o = out/'heldout_packages'
    sk = Path(sklearn.__file__).parent/'datasets'/'images'
    for f in ('china.jpg', 'flower.jpg'): (o/'sklearn').mkdir(parents=True, exist_ok=True); shutil.copy(sk/f, o/'sklearn'/f)
    from sklearn.datasets import load_digits
    dg = load_digits()
    for i in range(20):   # the 8x8 digits as stored (refused: too small) and upscaled to 64 px (must be flagged)
        a = (dg.images[i] / 16 * 255).astype(np.uint8)
        _save(a, o/'sklearn_digits_8px'/f'digit{i}.png')
        _save(np.asarray(Image.fromarray(a).resize((64, 64), Image.NEAREST)), o/'sklearn_digits_64px'/f'digit{i}.png')
    mp = Path(matplotlib.get_data_path())/'sample_data'
    (o/'matplotlib').mkdir(parents=True, exist_ok=True)
    for f in ('grace_hopper.jpg', 'logo2.png', 'Minduka_Present_Blue_Pack.png'): shutil.copy(mp/f, o/'matplotlib'/f)
    with gzip.open(mp/'s1045.ima.gz') as fh: mr = np.frombuffer(fh.read(), np.uint16).reshape(256, 256)   # an MR slice, raw
    Image.fromarray(mr.astype(np.uint16)).save(o/'matplotlib'/'s1045_mr_16bit.png')
    for f, k in (('topobathy.npz', 'topo'), ('jacksboro_fault_dem.npz', 'elevation')):
        z = np.load(mp/f)[k].astype(np.float64); z = (z - z.min()) / (np.ptp(z) or 1) * 255
        _save(z.astype(np.uint8), o/'matplotlib'/f'{Path(f).stem}.png')
    td = Path(pydicom.__file__).parent/'data'/'test_files'
    (o/'pydicom').mkdir(parents=True, exist_ok=True)
    for f in sorted(td.glob('*.dcm')): shutil.copy(f, o/'pydicom'/f.name)
    try:
        import skimage
        sd = Path(skimage.__file__).parent/'data'
        (o/'skimage').mkdir(parents=True, exist_ok=True)
        for f in sorted(list(sd.glob('*.png')) + list(sd.glob('*.jpg')) + list(sd.glob('*.gif')) + list(sd.glob('*.tif'))):
            shutil.copy(f, o/'skimage'/f.name)
        faces = np.load(sd/'lfw_subset.npy')
        for i in range(0, 200, 10): _save((faces[i] * 255).astype(np.uint8), o/'skimage_faces'/f'face{i}.png')
    except ImportError: pass

def xrays(out:Path, n=40, seed=0):
    "Held-out real X-rays in other forms: full-resolution-like files made from the Kaggle 224 px test copies, and DICOM forms."
    from pneumo_nb.data import xray_to_dicom
    rng = np.random.default_rng(seed)
    fs = sorted(glob.glob(str(DATA/'chest_xray_224'/'test'/'*'/'*.jpeg')))
    fs = [fs[i] for i in rng.choice(len(fs), n, replace=False)]
    o, od = out/'heldout_xray_fullres', out/'heldout_xray_dicom'
    o.mkdir(parents=True, exist_ok=True); od.mkdir(parents=True, exist_ok=True)
    for k, f in enumerate(fs):
        im = Image.open(f).convert('L')
        w = int(rng.integers(1300, 2000)); h = int(w / rng.uniform(1.1, 1.5))   # Kaggle originals are landscape, ~1.2-1.5:1
        big = im.resize((w, h), Image.BICUBIC)
        stem = Path(f).stem
        if k % 3 == 0: big.save(o/f'{stem}.png')
        elif k % 3 == 1: big.convert('RGB').save(o/f'{stem}.jpeg', quality=90)
        else: Image.fromarray((np.asarray(big, np.uint16) * 257)).save(o/f'{stem}_16bit.png')
        a = np.asarray(big.resize((w // 2, h // 2), Image.BICUBIC))
        form = [dict(), dict(photometric='MONOCHROME1'), dict(bits=12, window=True), dict(bits=16, compress='rle')][k % 4]
        xray_to_dicom(a, od/f'{stem}.dcm', **form)

if __name__ == '__main__':
    out = Path(sys.argv[1]); synthetic(out); packages(out); xrays(out)
    for d in sorted(out.rglob('*')):
        if d.is_dir() and not any(x.is_dir() for x in d.iterdir()): print(d.relative_to(out), len(list(d.iterdir())))

def fresh(out:Path):
    "Second held-out set of non-X-rays (for v2): every image of >= 4 kB shipped with installed software that v1 never scored."
    import site
    o = out/'heldout2_software'; o.mkdir(parents=True, exist_ok=True)
    exts = ('*.png', '*.jpg', '*.jpeg', '*.gif', '*.bmp', '*.tif', '*.tiff')
    roots = [Path(p) for p in site.getsitepackages()] + [Path('/usr/share/icons'), Path('/usr/share/doc'), Path('/usr/share/pixmaps')]
    seen = ('skimage/data', 'sample_data', 'sklearn/datasets', 'pydicom/data')
    n = 0
    for r in roots:
        for e in exts:
            for f in sorted(r.rglob(e)) if r.is_dir() else []:
                if f.is_file() and f.stat().st_size >= 4096 and not any(s in str(f) for s in seen):
                    shutil.copy(f, o/f"{n:03d}_{f.name}"); n += 1
    return n

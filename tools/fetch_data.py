"""Build a PNEUMO_DATA folder online, with the same layout as the offline copy the tests use.

    python tools/fetch_data.py DEST

- DEST/pneumoniamnist/pneumoniamnist.npz: the official 28 px PneumoniaMNIST file (medmnist download, MD5 checked).
- DEST/chest_xray_224/{train,test}/{NORMAL,PNEUMONIA}/: the Kaggle dataset (kagglehub; needs Kaggle credentials in
  KAGGLE_USERNAME/KAGGLE_KEY or ~/.kaggle/kaggle.json) resized to 224x224 RGB JPEG (squished, quality 75).
- DEST/chest_xray_64/...: the same at 64x64 grayscale PNG.
"""
import sys
from pathlib import Path
from PIL import Image

def main(dest):
    dest = Path(dest); (dest/'pneumoniamnist').mkdir(parents=True, exist_ok=True)
    from pneumo_nb.data import pneumoniamnist_file, kaggle_path
    print('PneumoniaMNIST:', pneumoniamnist_file(root=dest/'pneumoniamnist', download=True))
    src = kaggle_path(download=True)
    for size, mode, ext in [(224, 'RGB', '.jpeg'), (64, 'L', '.png')]:
        out = dest/f'chest_xray_{size}'
        for split in ('train', 'test'):
            for c in ('NORMAL', 'PNEUMONIA'):
                (out/split/c).mkdir(parents=True, exist_ok=True)
                for f in sorted((src/split/c).glob('*.jpeg')):
                    im = Image.open(f).convert(mode).resize((size, size), Image.BICUBIC)
                    im.save(out/split/c/(f.stem + ext), **({'quality': 75} if ext == '.jpeg' else {}))
        print('Kaggle', size, 'px:', out)

if __name__ == '__main__': main(sys.argv[1] if len(sys.argv) > 1 else 'data')

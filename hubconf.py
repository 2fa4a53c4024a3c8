"""torch.hub entry points for pneumo_nb's reference models.

The trained weights ship inside the package (`pneumo_nb/reference/`), so nothing is downloaded:

    import torch
    model = torch.hub.load('path/to/pneumo_nb', 'pneumoniamnist_28', source='local')   # a clone of the repository

Each entry returns the `torch.nn.Module` in eval mode. It takes uint8-derived float batches preprocessed as its run records
(`pneumo_nb.runs.load_run(NAME).batch`: size, channels, normalisation); `pneumo_nb.inference.predict_arrays(model, images,
load_run(NAME).batch)` does that for you and returns the probability of PNEUMONIA. Model cards: `pneumo_nb/reference/<name>/README.md`.
pneumo_nb is a research tool, not a diagnostic device: its outputs are model scores on images, never a diagnosis.
"""
dependencies = ['torch', 'fastai', 'numpy', 'pandas', 'yaml']

def _reference(name, pretrained):
    from pneumo_nb.runs import load_run
    r = load_run(name)
    if pretrained: return r.model
    from pneumo_nb.models import get_model
    b = r.batch
    return get_model(r.record['arch'], n_in=b.get('n_ch', 1), pretrained=False, img_size=b.get('img_size') or r.raw['size'],
                     **(r.record.get('model_kwargs') or {})).eval()

def pneumoniamnist_28(pretrained:bool=True):
    """pneumo_resnet trained on PneumoniaMNIST 28 px (the searched `best` recipe, seed 0); input 1x28x28.
    Test AUC and the rest, with 95% CIs: pneumo_nb/reference/pneumoniamnist-28/README.md. pretrained=False: untrained weights."""
    return _reference('pneumoniamnist-28', pretrained)

def chest_xray_64(pretrained:bool=True):
    """pneumo_resnet trained on the Kaggle chest_xray folders at 64 px (the `chest_xray_best` recipe, seed 0); input 1x64x64.
    Test AUC and the rest, with 95% CIs: pneumo_nb/reference/chest-xray-64/README.md. pretrained=False: untrained weights."""
    return _reference('chest-xray-64', pretrained)

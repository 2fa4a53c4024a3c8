"""The folder-default candidate of the local-check protocol: `--init pneumoniamnist-28` fine-tuned on the Kaggle train
folder, judged against the shipped `chest-xray-64` on VALIDATION only (benchmarks/site/PROTOCOL.md, last section):
validation AUC, and balanced accuracy on the 7 shifted validation copies at each run's threshold; it replaces the folder
default only if both are higher. Test numbers are not read here (each run's one test read is in its own ledger).

    python benchmarks/site/init_choice.py      # after: pneumo_train --dataset folder --data ../shared/data/chest_xray_64 --init pneumoniamnist-28 --seed 0 --out benchmarks/site/results/init_pm28_folder
"""
import json
from pathlib import Path
from pneumo_nb.runs import load_run

HERE = Path(__file__).parent
def main():
    cand, ref = load_run(HERE/'results'/'init_pm28_folder'), load_run('chest-xray-64')
    same_split = cand.split[cand.split.split == 'valid'].item.str.replace('^train/', '', regex=True).sort_values().tolist() == \
                 ref.split[ref.split.split == 'valid'].item.str.replace('^train/', '', regex=True).sort_values().tolist()
    row = lambda r: dict(val_auc=r.metrics['val']['auc'], shifted_val_balanced_accuracy=r.metrics['val_shifted_at_threshold']['balanced_accuracy'], threshold=r.threshold)
    c, f = row(cand), row(ref)
    wins = c['val_auc'] > f['val_auc'] and c['shifted_val_balanced_accuracy'] > f['shifted_val_balanced_accuracy']
    out = dict(candidate='pneumo_train --dataset folder --data chest_xray_64 --init pneumoniamnist-28 --seed 0', candidate_metrics=c,
               folder_default='chest-xray-64', folder_default_metrics=f, same_validation_images=same_split,
               rule='replaces the folder default only if both validation AUC and shifted-copy balanced accuracy are higher (declared in PROTOCOL.md)',
               decision='candidate wins: propose it as the folder default' if wins else 'the folder default stays chest-xray-64')
    (HERE/'results'/'init_choice.json').write_text(json.dumps(out, indent=1)); print(json.dumps(out, indent=1))

if __name__ == '__main__': main()

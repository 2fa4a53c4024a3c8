"""Apply the adoption rule of logs/validation/DECISIONS.txt to logs/validation/analysis_tta2.json and freeze the result
in CRITERION.json (with a timestamp). Refuses to overwrite an existing CRITERION.json: the criterion is frozen.

    python freeze_criterion.py
"""
import os, json, datetime
HERE = os.path.dirname(os.path.abspath(__file__))
CANDIDATES = ['val_auc', 'val_nll', 'val_brier', 'val_acc', 'shift_auc', 'shift_nll', 'shift_acc',
              'patient_auc', 'patient_nll', 'patient_brier', 'patient_acc']
COST = {'val': 0, 'shift': 1, 'patient': 2}

def rule(single):
    "The DECISIONS.txt rule: best mean rho; within 0.05, cheaper family first, then threshold-free (AUC/NLL/Brier) first."
    score = {k: (single[k]['test_auc']['rho'] + single[k]['test_acc']['rho']) / 2 for k in CANDIDATES if k in single}
    top = max(score.values())
    near = [k for k in score if score[k] >= top - 0.05]
    pick = min(near, key=lambda k: (COST[k.split('_')[0]], k.endswith('_acc'), -score[k]))
    if top < 0.5: pick = 'shift_auc'
    return pick, score

if __name__ == '__main__':
    out = os.path.join(HERE, 'CRITERION.json')
    if os.path.exists(out): raise SystemExit(f'{out} exists: the criterion is frozen ({json.load(open(out))["criterion"]}).')
    a = json.load(open(os.path.join(HERE, 'logs', 'validation', 'analysis_tta2.json')))
    pick, score = rule(a['single'])
    rec = dict(criterion=pick, frozen_at=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
               rule='logs/validation/DECISIONS.txt', n_configs=a['n_configs'], configs=a['configs'],
               mean_rho={k: round(v, 3) for k, v in sorted(score.items(), key=lambda kv: -kv[1])},
               rho_test_auc=a['single'][pick]['test_auc']['rho'], rho_test_acc=a['single'][pick]['test_acc']['rho'],
               note='Chosen after the fact with test metrics of these configurations (VALIDATION.md); frozen from here on: '
                    'the Optuna search optimises it on validation data only and never computes a test metric.')
    with open(out, 'w') as f: json.dump(rec, f, indent=1)
    print(json.dumps(rec, indent=1))

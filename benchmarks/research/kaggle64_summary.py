"""Status of the Kaggle 64 px search (issue 13; finished: 12 trials): the study's declaration and its trials, validation only.

The study was started with
    pneumo_search --space best --dataset chest_xray --data ../shared/data/chest_xray_64 --size 64 --trials 12 \
                  --study_name kaggle64 --out benchmarks/research/search
(its criterion, shift_nll, declared in the study before the first trial) (the same command resumes an unfinished study).
Usage, from the repository root:  python benchmarks/research/kaggle64_summary.py > benchmarks/research/search/kaggle64/summary.txt
Nothing here reads a test image: the trials were scored on the patient-level validation split of train/ (seed 42).
"""
import warnings
import optuna
from pneumo_nb.search import open_storage, search_summary, trials_df

warnings.simplefilter('ignore')
optuna.logging.set_verbosity(optuna.logging.WARNING)
study = optuna.load_study(study_name='kaggle64', storage=open_storage(None, 'benchmarks/research/search/kaggle64'))
print(search_summary(study))
cols = ['number', 'state', 'value', 'lr', 'wd', 'epochs', 'model_kwargs.width', 'model_kwargs.p', 'valid_auc', 'valid_accuracy',
        'valid_sensitivity', 'valid_specificity', 'valid_shift_auc', 'seconds']
df = trials_df(study)
print(df[[c for c in cols if c in df.columns]].round(4).to_string(index=False))
print('declared:', {k: study.user_attrs[k] for k in ('criterion', 'declared', 'data', 'test_metrics')})

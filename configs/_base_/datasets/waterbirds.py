# Waterbirds (Sagawa et al. 2020): landbird / waterbird with the background
# (land / water) as the bias, read from the standard release's metadata.csv
# (waterbird_complete95_forest2water2). IE's bias severities are not public:
# `severity` subsamples the standard train split's bias-conflicting samples
# deterministically (seed: the top-level `data_seed`, 0 by default; valid and
# test are never subsampled); see debiascls/datasets/waterbirds.py and
# docs/data_preparation.md for the counts. For a BiasEnsemble-style folder
# copy, set layout='folder' in the three datasets and data_root to it.
# debiascls.apis.prepare_config fills the top-level keys below into every
# dataset that does not set them, so a leaf config or
# `--cfg-options data_root=...` changes all splits at once.
#
# IE's preprocessing for Waterbirds is not public (BiasEnsemble has no
# Waterbirds): we use the pipeline and normalisation of BiasEnsemble's other
# real-world sets, as IE builds on its code base.
_base_ = ['./bias_folder_224.py']
severity = '1pct'  # '0.5pct', '1pct', '2pct', '5pct'
data_root = 'data/waterbird_complete95_forest2water2'
num_classes = 2

train_dataloader = dict(dataset=dict(type='Waterbirds', layout='metadata'))
val_dataloader = dict(dataset=dict(type='Waterbirds', layout='metadata'))
test_dataloader = dict(dataset=dict(type='Waterbirds', layout='metadata'))

# IE reports the class-averaged test accuracy (mean of the landbird and
# waterbird accuracies, `balanced_acc`), best over training. We select on
# the VALID split's balanced_acc (the standard valid split is balanced over
# places within each class, so it also holds conflicting samples).
val_cfg = dict(
    type='MultiSplitValLoop', selection_metric='valid/balanced_acc')

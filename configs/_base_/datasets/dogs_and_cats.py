# Dogs & Cats (Kim et al. 2019, bias severities of BiasEnsemble): cat / dog
# with the fur colour (dark / bright) as the bias, in the BiasEnsemble release
# layout under data_root (see docs/data_preparation.md). Train and valid
# depend on the severity; test is shared.
# debiascls.apis.prepare_config fills the top-level keys below into every
# dataset that does not set them, so a leaf config or
# `--cfg-options data_root=...` changes all splits at once.
_base_ = ['./bias_folder_224.py']
severity = '1pct'  # '1pct', '5pct'
data_root = 'data/dogs_and_cats'
num_classes = 2

train_dataloader = dict(dataset=dict(type='DogsAndCats'))
val_dataloader = dict(dataset=dict(type='DogsAndCats'))
test_dataloader = dict(dataset=dict(type='DogsAndCats'))

# BiasEnsemble reports the best test accuracy (model selection on the test
# set). We select on the VALID split's bias-conflicting accuracy: the valid
# folder ({severity}/valid) is built like the biased train split, so it holds
# few conflicting images; if a copy had none, the loop reports the metric as
# NaN with a warning and selects nothing: then use 'valid/acc'.
val_cfg = dict(
    type='MultiSplitValLoop', selection_metric='valid/conflicting_acc')

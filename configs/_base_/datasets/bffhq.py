# Biased FFHQ (BiaSwap; used by DisEnt, BiasEnsemble, IE): age (young / old)
# with gender as the bias, in the BiasEnsemble release layout under data_root
# (see docs/data_preparation.md). The train split depends on the severity;
# valid and test are shared by all severities.
# debiascls.apis.prepare_config fills the top-level keys below into every
# dataset that does not set them, so a leaf config or
# `--cfg-options data_root=...` changes all splits at once.
_base_ = ['./bias_folder_224.py']
severity = '1pct'  # '0.5pct', '1pct', '2pct', '5pct'
data_root = 'data/bffhq'
num_classes = 2

train_dataloader = dict(dataset=dict(type='BFFHQ'))
val_dataloader = dict(dataset=dict(type='BFFHQ'))
# The whole test folder: test/conflicting_acc is the official (and IE's
# "BC-only") number; conflicting_only_test=True reproduces the official
# loader's filter.
test_dataloader = dict(
    dataset=dict(type='BFFHQ', conflicting_only_test=False))

# The papers report the best bias-conflicting test accuracy (model selection
# on the test set). We select on the VALID split's bias-conflicting accuracy.
# The valid folder's file names carry both labels; if a copy had no
# conflicting valid image, the loop reports the metric as NaN with a warning
# and selects nothing: then use 'valid/acc'.
val_cfg = dict(
    type='MultiSplitValLoop', selection_metric='valid/conflicting_acc')

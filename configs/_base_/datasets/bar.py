# BAR, Biased Action Recognition (LfF; bias severities of BiasEnsemble): six
# actions biased to six places, in the BiasEnsemble release layout under
# data_root (see docs/data_preparation.md). Only train/conflict depends on
# the severity. BAR has no place annotations: train bias labels follow the
# official convention (align => bias = target, conflict => bias =
# (target + 1) mod 6) and valid/test bias labels are the file names' values,
# so only the overall accuracy is meaningful.
# debiascls.apis.prepare_config fills the top-level keys below into every
# dataset that does not set them, so a leaf config or
# `--cfg-options data_root=...` changes all splits at once.
_base_ = ['./bias_folder_224.py']
severity = '1pct'  # '1pct', '5pct'
data_root = 'data/bar'
num_classes = 6

train_dataloader = dict(dataset=dict(type='BAR'))
val_dataloader = dict(dataset=dict(type='BAR'))
test_dataloader = dict(dataset=dict(type='BAR'))

# IE and BiasEnsemble report the best overall test accuracy; we select on the
# overall VALID accuracy (the bias labels of valid are not annotations).
val_cfg = dict(type='MultiSplitValLoop', selection_metric='valid/acc')

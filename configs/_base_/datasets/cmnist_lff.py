# Colored MNIST as LfF generates it (alinlab/LfF make_dataset.py, severity 4):
# all 60,000 MNIST training digits with LfF's order-based colour assignment,
# and the 10,000 test digits with 10 % of each colour per class, LfF's
# only evaluation split ("valid" in its code, our test). There is no
# validation split: every evaluation is on test, so the selection rules are
# `last` (LfF reports its curves and keeps the last model) and the labelled
# `oracle-test-<metric>`; no checkpoint is selected during training.
_base_ = ['./cmnist.py']
data_root = 'data/cmnist_lff'
train_dataloader = dict(dataset=dict(protocol='lff'))
test_dataloader = dict(dataset=dict(protocol='lff'))
# the validation loop evaluates the test split only, under its own name
val_dataloader = dict(dataset=dict(split='test', protocol='lff'))
val_cfg = dict(
    split_name='test', include_test=False, selection_metric=None)
test_cfg = dict(include_valid=False)

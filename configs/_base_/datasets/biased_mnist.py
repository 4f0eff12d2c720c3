# Biased MNIST (ReBias): white digits on a background colour correlated with
# the class by rho. Generated from the MNIST IDX files under mnist_root on
# first use and cached as arrays (see docs/data_preparation.md).
# The setting and paths. debiascls.apis.prepare_config fills each into every
# dataset below that does not set it, so a leaf config or
# `--cfg-options data_root=... mnist_root=...` changes all splits at once.
rho = 0.997
data_root = 'data/biased_mnist'
mnist_root = 'data/mnist'
dataset_type = 'BiasedMNIST'
num_classes = 10

# In-memory images: LoadImageFromFile passes them through.
train_pipeline = [dict(type='LoadImageFromFile'), dict(type='PackInputs')]
test_pipeline = [dict(type='LoadImageFromFile'), dict(type='PackInputs')]

train_dataloader = dict(
    batch_size=256,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='ResumableInfiniteSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type=dataset_type,
        split='train',
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=512,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type=dataset_type,
        split='valid',
        pipeline=test_pipeline))
# The paper's "unbiased" test set (rho = 0.1, colours uniform).
test_dataloader = dict(
    batch_size=512,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type=dataset_type,
        split='test_unbiased',
        pipeline=test_pipeline))
# ... and its "biased" one (rho = 1), evaluated alongside.
_test_biased = dict(
    batch_size=512,
    num_workers=2,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type=dataset_type,
        split='test_biased',
        pipeline=test_pipeline))

val_evaluator = dict(type='DebiasAccuracy')
test_evaluator = val_evaluator

# ReBias selects on the unbiased *test* accuracy; we select on the mean
# (class, colour) cell accuracy of the held-out valid split, which is biased
# like training (docs/model_selection.md lists the rules applied afterwards).
val_cfg = dict(
    type='MultiSplitValLoop',
    selection_metric='valid/unbiased_acc',
    extra_splits=dict(test_biased=_test_biased))
test_cfg = dict(
    type='MultiSplitTestLoop', extra_splits=dict(test_biased=_test_biased))

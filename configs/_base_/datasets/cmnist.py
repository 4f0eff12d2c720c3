# Colored MNIST (LfF, DisEnt, BiasEnsemble): colour on the digit, in the
# DisEnt/BiasEnsemble folder layout under data_root (generated from MNIST IDX
# files under mnist_root on first use, see docs/data_preparation.md).
# The setting and paths. debiascls.apis.prepare_config fills each into every
# dataset below that does not set it, so a leaf config or
# `--cfg-options data_root=... mnist_root=...` changes all splits at once.
severity = '1pct'
data_root = 'data/cmnist'
mnist_root = 'data/mnist'
dataset_type = 'ColoredMNIST'
num_classes = 10

# Decoded digits stay in memory (at most 160 MiB per loader worker; 60,000
# digits take 135 MiB): reading 256 small files per batch costs as much CPU
# as the training step.
train_pipeline = [
    dict(type='LoadImageFromFile', cache_mb=160),
    dict(type='PackInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile', cache_mb=160),
    dict(type='PackInputs')
]

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
test_dataloader = dict(
    batch_size=512,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type=dataset_type,
        split='test',
        pipeline=test_pipeline))

val_evaluator = dict(type='DebiasAccuracy')
test_evaluator = val_evaluator

# The valid split is biased like the training split: its conflicting
# samples select the checkpoint (the papers select on the test set; see
# docs/model_selection.md for the rules applied after training).
val_cfg = dict(
    type='MultiSplitValLoop', selection_metric='valid/conflicting_acc')
test_cfg = dict(type='MultiSplitTestLoop')

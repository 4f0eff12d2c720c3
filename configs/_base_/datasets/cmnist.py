# Colored MNIST as the DisEnt/BiasEnsemble release (ColoredMNIST's default
# protocol='disent'; the data of IE, CosFairNet and BE): colour on the
# digit; 55,000 training digits with the release's conflicting counts
# (249 / 491 / 986 / 2,449 at 0.5 / 1 / 2 / 5 %), a valid split of the other
# 5,000 MNIST training digits as biased as train, and the 10,000 MNIST test
# digits with colours balanced per class. Generated under data_root from
# the MNIST IDX files in mnist_root on first use (docs/data_preparation.md).
# debiascls.apis.prepare_config fills the top-level keys into every split,
# so a leaf config or `--cfg-options data_root=... mnist_root=...` changes
# all of them at once.
severity = '1pct'
data_root = 'data/cmnist'
mnist_root = 'data/mnist'
dataset_type = 'ColoredMNIST'
num_classes = 10

# Every split is decoded once into a uint8 tensor (55,000 x 3 x 28 x 28 =
# 129 MiB) and batches are formed by indexing it: no PNG decoding per step,
# no loader workers. A split over max_mb is read from its files instead,
# with the decoded-image cache and 'auto' workers (docs/getting_started.md).
train_pipeline = [
    dict(type='LoadImageFromFile', cache_mb=160),
    dict(type='PackInputs')
]
test_pipeline = train_pipeline

train_dataloader = dict(
    batch_size=256,
    num_workers='auto',
    persistent_workers=True,
    in_memory=dict(max_mb=1024),
    sampler=dict(type='ResumableInfiniteSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type=dataset_type,
        split='train',
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=512,
    num_workers='auto',
    in_memory=dict(max_mb=1024),
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type=dataset_type,
        split='valid',
        pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=512,
    num_workers='auto',
    in_memory=dict(max_mb=1024),
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

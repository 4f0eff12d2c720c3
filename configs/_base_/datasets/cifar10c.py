# Corrupted CIFAR-10 (LfF protocol; LfF, DisEnt, CosFairNet): the object is
# the target, one of ten corruptions the bias. Read from the DisEnt folder
# layout under data_root; missing folders are generated from the CIFAR-10
# python batches under cifar_root on first use (see
# docs/data_preparation.md, Corrupted CIFAR-10).
# debiascls.apis.prepare_config fills the top-level keys below into every
# dataset that does not set them, so a leaf config or
# `--cfg-options data_root=... cifar_root=...` changes all splits at once.
# The corruption list and level are dataset keys: change them in all three
# datasets (a generated folder records them in its meta.json and refuses
# others).
severity = '1pct'  # '0.5pct', '1pct', '2pct', '5pct'
data_root = 'data/cifar10c'
cifar_root = 'data/cifar10'
dataset_type = 'CorruptedCIFAR10'
num_classes = 10
# LfF's Type0 list (Snow, Frost, Fog, Brightness, Contrast, Spatter, Elastic,
# JPEG, Pixelate, Saturate) at level 5, i.e. LfF's published "Severity4".
_corruption = dict(corruption_type=0, level=5)

# LfF data/util.py (and DisEnt's cifar10c): train RandomCrop(32, padding=4)
# + RandomHorizontalFlip, eval nothing; Normalize below.
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomCrop', size=32, padding=4),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs')
]
test_pipeline = [dict(type='LoadImageFromFile'), dict(type='PackInputs')]

# Merged into the model config by mmengine's Runner, in the 0-255 pixel
# scale of PackInputs: LfF's CIFAR-10 mean/std (0.4914, 0.4822, 0.4465) /
# (0.2023, 0.1994, 0.2010), times 255.
data_preprocessor = dict(
    mean=[125.307, 122.961, 113.8575], std=[51.5865, 50.847, 51.255])

train_dataloader = dict(
    batch_size=256,  # LfF, DisEnt and CosFairNet
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='ResumableInfiniteSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type=dataset_type, split='train', pipeline=train_pipeline,
        **_corruption))
val_dataloader = dict(
    batch_size=512,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type=dataset_type, split='valid', pipeline=test_pipeline,
        **_corruption))
test_dataloader = dict(
    batch_size=512,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type=dataset_type, split='test', pipeline=test_pipeline,
        **_corruption))

val_evaluator = dict(type='DebiasAccuracy')
test_evaluator = val_evaluator

# The papers report the (unbiased) test accuracy, selected on test. We
# select on the conflicting samples of the biased valid split, as for
# Colored MNIST (docs/model_selection.md).
val_cfg = dict(
    type='MultiSplitValLoop', selection_metric='valid/conflicting_acc')
test_cfg = dict(type='MultiSplitTestLoop')

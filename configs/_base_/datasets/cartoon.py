# Cartoon Set as PGD's controlled benchmark: hair colour (4 merged classes)
# with the face colour (4 merged classes) as the bias; train/valid
# subsampled to the severity's share of bias-conflicting cartoons, test
# unsubsampled, all from data_seed (see docs/data_preparation.md, Cartoon
# Set). A loader only: unpack cartoonset100k (or 10k) under data_root.
# debiascls.apis.prepare_config fills the top-level keys below into every
# dataset that does not set them.
# '0.5pct', '1pct', '5pct' (bias ratios 99.5 / 99 / 95 %) or '10pct' (90 %)
severity = '1pct'
data_root = 'data/cartoonset100k'
data_seed = 0
num_classes = 4

# PGD's Cartoon preprocessing is not public; we use the 224x224 pipeline of
# the real-world sets (LfF's CelebA one): train Resize + horizontal flip,
# eval Resize, ImageNet normalisation (below), for an ImageNet-pretrained
# ResNet18. PNGs are RGBA; OpenCV drops the alpha channel.
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', size=(224, 224)),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', size=(224, 224)),
    dict(type='PackInputs')
]

# ImageNet mean/std times 255, merged into the model by the Runner (a model
# config with its own data_preprocessor must not be combined with this
# file: mmengine refuses duplicate top-level keys).
data_preprocessor = dict(
    mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375])

train_dataloader = dict(
    batch_size=256,  # PGD appendix Table 4 (with its SimpleConvNet-2)
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='ResumableInfiniteSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='CartoonSet', split='train', pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=256,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='CartoonSet', split='valid', pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=256,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='CartoonSet', split='test', pipeline=test_pipeline))

val_evaluator = dict(type='DebiasAccuracy')
test_evaluator = val_evaluator

# PGD selects on the smallest loss on its biased valid split (10 % of the
# training data); the closest metric we log is the valid accuracy.
# Reported: test/aligned_acc (major) and test/conflicting_acc (minor).
val_cfg = dict(type='MultiSplitValLoop', selection_metric='valid/acc')
test_cfg = dict(type='MultiSplitTestLoop')

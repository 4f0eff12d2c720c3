# Colored MNIST of PGD (sumyeongahn/PGD datagen): PGD's 10 colours on the
# digit, random bias assignment, train/valid = first 90 % / last 10 % of the
# MNIST training digits, test = t10k with minority probability 0.9. Folder
# layout under data_root, generated from the MNIST IDX files under
# mnist_root on first use (see docs/data_preparation.md, PGD Colored MNIST).
# debiascls.apis.prepare_config fills the top-level keys below into every
# dataset that does not set them, so a leaf config or
# `--cfg-options data_root=... mnist_root=...` changes all splits at once.
# `color_noise` (std of the per-sample colour deviation, PGD's code: 1e-4)
# is a dataset key: set it in all three datasets and use another data_root.
# '0.5pct', '1pct', '5pct' (bias ratios 99.5 / 99 / 95 %) or '10pct' (90 %)
severity = '1pct'
data_root = 'data/pgd_cmnist'
mnist_root = 'data/mnist'
dataset_type = 'PGDColoredMNIST'
num_classes = 10

# PGD's training augmentation (appendix A.1; datagen train transform):
# RandomResizedCrop(28, scale=(0.9, 1.1)), ColorJitter(hue=0.05,
# saturation=0.05), RandomRotation(10, NEAREST). Crops with an area beyond
# the image are redrawn, then a centre crop, as torchvision. Valid and test:
# none. The model config converts pixels to [0, 1] (ToTensor).
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', size=28, scale=(0.9, 1.1)),
    dict(type='ColorJitter', saturation=0.05, hue=0.05),
    dict(type='RandomRotation', degrees=10, interpolation='nearest'),
    dict(type='PackInputs')
]
test_pipeline = [dict(type='LoadImageFromFile'), dict(type='PackInputs')]

train_dataloader = dict(
    batch_size=256,  # PGD appendix Table 4 (its --reproduce preset: 128)
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='ResumableInfiniteSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type=dataset_type, split='train', pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=512,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type=dataset_type, split='valid', pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=512,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type=dataset_type, split='test', pipeline=test_pipeline))

val_evaluator = dict(type='DebiasAccuracy')
test_evaluator = val_evaluator

# PGD keeps the checkpoint of smallest loss on its biased valid split (10 %
# of the training data); the closest metric we log is the valid accuracy.
# It reports the majority (test/aligned_acc) and minority
# (test/conflicting_acc) test accuracies.
val_cfg = dict(type='MultiSplitValLoop', selection_metric='valid/acc')
test_cfg = dict(type='MultiSplitTestLoop')

# Watermarked MNIST of PGD (appendix B.1): a 56x56 enlarged MNIST digit with
# a Fashion-MNIST object of the bias class at the top-left corner, offset
# U{0..max_offset}; bias ratios, splits and augmentation as PGD's Colored
# MNIST. Generated on first use from the MNIST and Fashion-MNIST IDX files
# (see docs/data_preparation.md, Watermarked MNIST).
# debiascls.apis.prepare_config fills the top-level keys below into every
# dataset that does not set them (`--cfg-options mnist_root=...
# fashion_mnist_root=...` reaches all splits). `max_offset` (α: 8 or 16) is
# a dataset key: set it in all three datasets and use another data_root.
# '0.5pct', '1pct', '5pct' (bias ratios 99.5 / 99 / 95 %) or '10pct' (90 %)
severity = '1pct'
data_root = 'data/watermarked_mnist'
mnist_root = 'data/mnist'
fashion_mnist_root = 'data/fashion_mnist'
dataset_type = 'WatermarkedMNIST'
num_classes = 10

# PGD's augmentation (appendix A.1), at the 56x56 canvas size. The images
# are grey (replicated over RGB), so the colour jitter changes nothing; it
# is kept as PGD applies it. The model config converts pixels to [0, 1].
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', size=56, scale=(0.9, 1.1)),
    dict(type='ColorJitter', saturation=0.05, hue=0.05),
    dict(type='RandomRotation', degrees=10, interpolation='nearest'),
    dict(type='PackInputs')
]
test_pipeline = [dict(type='LoadImageFromFile'), dict(type='PackInputs')]

train_dataloader = dict(
    batch_size=256,  # PGD appendix Table 4
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='ResumableInfiniteSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type=dataset_type, split='train', max_offset=8,
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=512,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type=dataset_type, split='valid', max_offset=8,
        pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=512,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type=dataset_type, split='test', max_offset=8,
        pipeline=test_pipeline))

val_evaluator = dict(type='DebiasAccuracy')
test_evaluator = val_evaluator

# PGD selects on the smallest loss on its biased valid split; the closest
# metric we log is the valid accuracy. Reported: test/aligned_acc (major)
# and test/conflicting_acc (minor).
val_cfg = dict(type='MultiSplitValLoop', selection_metric='valid/acc')
test_cfg = dict(type='MultiSplitTestLoop')

# 9-class ImageNet (ReBias, ICML 2020, Sec. 4.3): nine super-classes over 42
# ImageNet wnids, texture clusters of the val images as the proxy bias, and
# ImageNet-A / ImageNet-C as extra test sets (see docs/data_preparation.md).
# debiascls.apis.prepare_config fills the top-level keys below into every
# dataset that takes them and does not set them, so a leaf config or
# `--cfg-options data_root=... imagenet_a_root=...` changes all splits.
data_root = 'data/imagenet'  # train/<wnid>/*.JPEG, val/<wnid>/*.JPEG
# The held-out valid split: this share of the train images of every wnid,
# drawn with data_seed and removed from train (one key for both splits).
valid_fraction = 0.05
data_seed = 0
# Extra evaluation sets; None leaves the split out. ImageNet-C (75 x 2,100
# images) is evaluated by tools/test.py only, ImageNet-A also during
# training.
imagenet_a_root = 'data/imagenet-a'  # <wnid>/*.jpg
imagenet_c_root = None  # <corruption>/<severity>/<wnid>/*.JPEG
dataset_type = 'ImageNet9'
num_classes = 9

# ReBias datasets/imagenet.py: train RandomResizedCrop(224) + horizontal
# flip; eval Resize(256) + CenterCrop(224). Normalisation (ImageNet mean and
# std) is done on the batch by the data preprocessor below.
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', size=224),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', size=256),
    dict(type='CenterCrop', size=224),
    dict(type='PackInputs')
]
# ImageNet-C images are 224x224 centre crops already (its official
# evaluation only normalises them); this leaves them unchanged.
_imagenet_c_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', size=224),
    dict(type='CenterCrop', size=224),
    dict(type='PackInputs')
]

# Merged into the model config by mmengine's Runner (setdefault), in the
# 0-255 pixel scale of PackInputs: ImageNet's mean (0.485, 0.456, 0.406) and
# std (0.229, 0.224, 0.225), times 255, as ReBias.
data_preprocessor = dict(
    mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375])

train_dataloader = dict(
    batch_size=128,  # ReBias main_imagenet.py
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='ResumableInfiniteSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type=dataset_type, split='train', pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=128,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type=dataset_type, split='valid', pipeline=test_pipeline))
# The 2,100 val images: ReBias's "biased" (test/acc) and "unbiased"
# (test/texture_unbiased_acc) sets. Texture clusters from cluster_file
# (default {data_root}/9class_imagenet_val.csv: ReBias's file, or ours from
# tools/data/make_texture_clusters.py).
test_dataloader = dict(
    batch_size=128,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type=dataset_type,
        split='test',
        cluster_file=None,
        pipeline=test_pipeline))
_imagenet_a = dict(
    batch_size=128,
    num_workers=8,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='ImageNetA', pipeline=test_pipeline))
# The 15 corruptions x 5 severities in one split: its acc is the mean over
# the 75 (corruption, severity) pairs (see debiascls/datasets/imagenet_c.py).
_imagenet_c = dict(
    batch_size=128,
    num_workers=8,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='ImageNetC', pipeline=_imagenet_c_pipeline))

# DebiasAccuracy: acc (ReBias's "biased" on test; ImageNet-A/-C accuracy on
# theirs). TextureUnbiasedAccuracy: ReBias's "unbiased" on test,
# test/texture_unbiased_acc (cells with >= 10 samples, mean of the three
# clusterings); it reports nothing on splits without texture clusters.
# DebiasAccuracy's test/unbiased_acc (every non-empty cell of the first
# clustering) is not ReBias's number.
val_evaluator = [
    dict(type='DebiasAccuracy'),
    dict(type='TextureUnbiasedAccuracy', min_population=10)
]
test_evaluator = val_evaluator

# ReBias keeps the best "unbiased" accuracy of its test split. Texture
# clusters exist for val (our test split) only, so we select on the plain
# accuracy of the held-out valid split (biased like train).
val_cfg = dict(
    type='MultiSplitValLoop',
    selection_metric='valid/acc',
    extra_splits=dict(imagenet_a=_imagenet_a))
test_cfg = dict(
    type='MultiSplitTestLoop',
    extra_splits=dict(imagenet_a=_imagenet_a, imagenet_c=_imagenet_c))

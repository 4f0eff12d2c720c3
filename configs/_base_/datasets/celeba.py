# CelebA with a target and a bias attribute (PGD: Heavy_Makeup vs Male, the
# default; LfF: Blond_Hair vs Male), torchvision's layout under data_root
# (the `celeba` folder), official partition for train/valid/test (see
# docs/data_preparation.md, CelebA). The attributes are dataset keys: for
# LfF's setting set target_attr='Blond_Hair' in all three datasets.
# debiascls.apis.prepare_config fills data_root into every dataset.
data_root = 'data/celeba'
num_classes = 2
_attrs = dict(target_attr='Heavy_Makeup', bias_attr='Male')

# LfF data/util.py (CelebA): train Resize((224, 224)) + RandomHorizontalFlip,
# eval Resize((224, 224)), ImageNet normalisation (below). OpenCV's bilinear
# resize, not PIL's antialiased one (see BFFHQ's notes).
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

# ImageNet mean/std times 255 (LfF), merged into the model by the Runner.
data_preprocessor = dict(
    mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375])

train_dataloader = dict(
    batch_size=64,  # PGD appendix Table 4
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='ResumableInfiniteSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type='CelebABias', split='train', pipeline=train_pipeline, **_attrs))
val_dataloader = dict(
    batch_size=128,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type='CelebABias', split='valid', pipeline=test_pipeline, **_attrs))
test_dataloader = dict(
    batch_size=128,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type='CelebABias', split='test', pipeline=test_pipeline, **_attrs))

val_evaluator = dict(type='DebiasAccuracy')
test_evaluator = val_evaluator

# The valid partition has the natural distribution (every (target, bias)
# group present): select on the mean over the groups (LfF's "unbiased"
# number; PGD selects on the valid loss).
val_cfg = dict(type='MultiSplitValLoop', selection_metric='valid/unbiased_acc')
test_cfg = dict(type='MultiSplitTestLoop')

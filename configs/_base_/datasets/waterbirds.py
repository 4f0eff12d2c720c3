# Waterbirds (Sagawa et al. 2020): landbird / waterbird with the background
# (land / water) as the bias, read from the standard release's metadata.csv
# (waterbird_complete95_forest2water2). IE's bias severities are not public:
# `severity` subsamples the standard train split's bias-conflicting samples
# deterministically (seed `data_seed` of the train dataset; valid and test
# are never subsampled); see debiascls/datasets/waterbirds.py and
# docs/data_preparation.md for the counts. For a BiasEnsemble-style folder
# copy, set layout='folder' in the three datasets and data_root to it.
# debiascls.apis.prepare_config fills the top-level keys below into every
# dataset that does not set them, so a leaf config or
# `--cfg-options data_root=...` changes all splits at once.
severity = '1pct'  # '0.5pct', '1pct', '2pct', '5pct'
data_root = 'data/waterbird_complete95_forest2water2'
dataset_type = 'Waterbirds'
num_classes = 2

# IE's preprocessing for Waterbirds is not public (BiasEnsemble has no
# Waterbirds): we use the pipeline and normalisation of BiasEnsemble's other
# real-world sets, as IE builds on its code base.
# Pipelines of the official code (BiasEnsemble data/util.py,
# transforms_preprcs): train Resize(224, 224) -> RandomCrop(224, padding=4)
# -> RandomHorizontalFlip; eval Resize(224, 224). Normalisation is done on
# the batch by the model's data preprocessor (below), not here.
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', size=(224, 224)),
    dict(type='RandomCrop', size=224, padding=4),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', size=(224, 224)),
    dict(type='PackInputs')
]

# Merged into the model config by mmengine's Runner (setdefault), in the
# 0-255 pixel scale of PackInputs. As the official code (BiasEnsemble and
# DisEnt data/util.py), the CIFAR-10 mean/std (0.4914, 0.4822, 0.4465) /
# (0.2023, 0.1994, 0.2010), times 255, even on these 224x224 photographs;
# ImageNet's (0.485, 0.456, 0.406) / (0.229, 0.224, 0.225) would be the
# natural choice for an ImageNet-pretrained ResNet18.
data_preprocessor = dict(
    mean=[125.307, 122.961, 113.8575], std=[51.5865, 50.847, 51.255])

train_dataloader = dict(
    batch_size=64,  # BiasEnsemble learner.py (data2batch_size)
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='ResumableInfiniteSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type=dataset_type,
        split='train',
        layout='metadata',
        # data_seed: top-level key (filled in by prepare_config), 0 by default.
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=64,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type=dataset_type,
        split='valid',
        layout='metadata',
        pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=64,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type=dataset_type,
        split='test',
        layout='metadata',
        pipeline=test_pipeline))

val_evaluator = dict(type='DebiasAccuracy')
test_evaluator = val_evaluator

# IE reports the class-averaged test accuracy (mean of the landbird and
# waterbird accuracies, `balanced_acc`), best over training. We select on
# the VALID split's balanced_acc (the standard valid split is balanced over
# places within each class, so it also holds conflicting samples).
val_cfg = dict(
    type='MultiSplitValLoop', selection_metric='valid/balanced_acc')
test_cfg = dict(type='MultiSplitTestLoop')

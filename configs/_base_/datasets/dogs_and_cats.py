# Dogs & Cats (Kim et al. 2019, bias severities of BiasEnsemble): cat / dog
# with the fur colour (dark / bright) as the bias, in the BiasEnsemble release
# layout under data_root (see docs/data_preparation.md). Train and valid
# depend on the severity; test is shared.
# debiascls.apis.prepare_config fills the top-level keys below into every
# dataset that does not set them, so a leaf config or
# `--cfg-options data_root=...` changes all splits at once.
severity = '1pct'  # '1pct', '5pct'
data_root = 'data/dogs_and_cats'
dataset_type = 'DogsAndCats'
num_classes = 2

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
        pipeline=test_pipeline))

val_evaluator = dict(type='DebiasAccuracy')
test_evaluator = val_evaluator

# BiasEnsemble reports the best test accuracy (model selection on the test
# set). We select on the VALID split's bias-conflicting accuracy: the valid
# folder ({severity}/valid) is built like the biased train split, so it holds
# few conflicting images; if a copy had none, the loop reports the metric as
# NaN with a warning and selects nothing: then use 'valid/acc'.
val_cfg = dict(
    type='MultiSplitValLoop', selection_metric='valid/conflicting_acc')
test_cfg = dict(type='MultiSplitTestLoop')

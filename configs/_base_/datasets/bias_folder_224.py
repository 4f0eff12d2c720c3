# What the real-world data sets of BiasEnsemble/DisEnt/IE share (BFFHQ,
# Dogs & Cats, BAR, Waterbirds inherit it and name their dataset type, root,
# severity and selection metric).
#
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
    dataset=dict(split='train', pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=64,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(split='valid', pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=64,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(split='test', pipeline=test_pipeline))

val_evaluator = dict(type='DebiasAccuracy')
test_evaluator = val_evaluator
test_cfg = dict(type='MultiSplitTestLoop')

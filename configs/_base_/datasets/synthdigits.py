# SynthDigits: the offline twin of Colored MNIST (OpenCV-rendered digits,
# LfF's colours on the foreground), generated and cached on first use.
# The setting and paths. debiascls.apis.prepare_config fills each into every
# dataset below that does not set it, so a leaf config or
# `--cfg-options data_root=... mnist_root=...` changes all splits at once.
severity = '1pct'
data_root = 'data/synthdigits'
dataset_type = 'SynthDigits'
num_classes = 10

# Every split is decoded once into a uint8 tensor (12,000 training digits:
# 27 MiB) and batches are formed by indexing it, without loader workers; a
# split over max_mb (or a random pipeline, in_memory=None) is read from its
# files with the decoded-image cache (at most 160 MiB per loader worker):
# reading 256 small files per batch costs as much CPU as the training step.
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

# ReBias's action-recognition benchmark: train on Kinetics-10 (biased towards
# static scene / object cues), test on Mimetics-10 (mimed actions, no such
# cues; the paper's "unbiased" number) and on the Kinetics validation videos
# (the paper's "biased" number, split `test_kinetics`). Layouts: see
# docs/data_preparation.md, Kinetics-10 / Mimetics-10.
# debiascls.apis.prepare_config fills `data_root` (Kinetics), `mimetics_root`
# and `data_seed` / `valid_fraction` into every dataset that takes them, so
# `--cfg-options data_root=... mimetics_root=...` changes all splits.
data_root = 'data/kinetics400'
mimetics_root = 'data/mimetics'
data_seed = 0  # seed of the valid split held out from Kinetics train
valid_fraction = 0.1
num_classes = 10

# ReBias (datasets/kinetics_tools/kinetics.py): 8 frames at sampling rate 8
# (a 64-frame window at 30 fps); train short side jittered in [256, 320],
# random 224 crop, horizontal flip; test 10 uniformly spaced temporal views x
# 1 spatial crop of 256 at short side 256. The official single test crop is
# SlowFast's uniform crop with spatial index 0, i.e. the left (landscape) or
# top (portrait) 256 window, hence position='start'; 'center' is the usual
# centre crop.
train_pipeline = [
    dict(type='OpenVideo'),
    dict(type='SampleFrames', clip_len=8, frame_interval=8, num_clips=1),
    dict(type='DecodeFrames'),
    dict(type='VideoShortSideScale', scale=(256, 320)),
    dict(type='VideoRandomCrop', size=224),
    dict(type='VideoFlip', prob=0.5),
    dict(type='PackVideoInputs')
]
test_pipeline = [
    dict(type='OpenVideo'),
    dict(type='SampleFrames', clip_len=8, frame_interval=8, num_clips=10,
         test_mode=True),
    dict(type='DecodeFrames'),
    dict(type='VideoShortSideScale', scale=256),
    dict(type='VideoUniformCrop', size=256, position='start'),
    dict(type='PackVideoInputs')
]

# ReBias normalises frames in [0, 1] with mean 0.45 and std 0.225 for every
# channel; the data preprocessor works in the 0-255 scale of the uint8
# frames: 0.45 * 255 = 114.75, 0.225 * 255 = 57.375. Clips (B, C, T, H, W)
# and views (B, V, C, T, H, W) are normalised along C.
data_preprocessor = dict(mean=[114.75] * 3, std=[57.375] * 3)

train_dataloader = dict(
    batch_size=128,  # ReBias main_action.py (paper Appendix C)
    num_workers=8,  # video decoding is the bottleneck
    persistent_workers=True,
    sampler=dict(type='ResumableInfiniteSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='Kinetics10', split='train', pipeline=train_pipeline))
# Evaluation batches hold videos of 10 views each (10 x 3 x 8 x 256 x 256
# uint8, 15.7 MB per video): 16 videos = 160 clips, about ReBias's 128
# clips per evaluation batch.
_eval_loader = dict(
    batch_size=16,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'))
# Model selection on a held-out, class-stratified 10 % of Kinetics train
# (biased like training). ReBias has no such split: it keeps the epoch with
# the best Mimetics accuracy, i.e. it selects on the test set.
val_dataloader = dict(
    **_eval_loader,
    dataset=dict(type='Kinetics10', split='valid', pipeline=test_pipeline))
# The paper's unbiased number.
test_dataloader = dict(
    **_eval_loader,
    dataset=dict(type='Mimetics10', split='test', pipeline=test_pipeline))
# ... and its biased one: the Kinetics validation videos.
_test_kinetics = dict(
    **_eval_loader,
    dataset=dict(type='Kinetics10', split='test', pipeline=test_pipeline))

# Bias labels are unknown (-1) everywhere: only `acc` (and the class-
# balanced accuracy) are reported; `test/acc` is Mimetics-10,
# `test_kinetics/acc` Kinetics-10.
val_evaluator = dict(type='DebiasAccuracy')
test_evaluator = val_evaluator

val_cfg = dict(
    type='MultiSplitValLoop',
    selection_metric='valid/acc',
    extra_splits=dict(test_kinetics=_test_kinetics))
test_cfg = dict(
    type='MultiSplitTestLoop', extra_splits=dict(test_kinetics=_test_kinetics))

# cmnist with PGD's training augmentations (its Appendix A.1, torchvision in the
# official code): RandomResizedCrop with scale (0.9, 1.1), ColorJitter (hue
# 0.05, saturation 0.05), RandomRotation (-10, 10) degrees, nearest filling.
# Decoded images stay cached as in the base pipeline (augmentations run after);
# the random pipeline cannot be decoded once, so the split is read from files.
_base_ = ['./cmnist.py']
train_dataloader = dict(
    in_memory=None,
    dataset=dict(pipeline=[
        dict(type='LoadImageFromFile', cache_mb=160),
        dict(type='RandomResizedCrop', size=28, scale=(0.9, 1.1)),
        dict(type='ColorJitter', hue=0.05, saturation=0.05),
        dict(type='RandomRotation', degrees=10, interpolation='nearest'),
        dict(type='PackInputs')
    ]))

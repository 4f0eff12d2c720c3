# ReBias's action recognisers (Table A2): F, 3D-ResNet18 (temporal kernels
# 3, temporal receptive field 19; widths 32-64-128-256) and G, biased by
# design towards static cues, 2D-ResNet18 (the same net with temporal
# kernels 1). GAP over time and space, then a linear classifier. Test videos
# are 10 temporal views whose softmax scores are averaged, as the official
# evaluator sums them.
classifier = dict(
    type='VideoClassifier',
    backbone=dict(type='ResNet3D18', temporal_kernels='3d'),
    head=dict(type='GAPLinearHead'),
    view_reduce='mean_probs')
biased_classifiers = [
    dict(
        type='VideoClassifier',
        backbone=dict(type='ResNet3D18', temporal_kernels='2d'),
        head=dict(type='GAPLinearHead'),
        view_reduce='mean_probs')
]

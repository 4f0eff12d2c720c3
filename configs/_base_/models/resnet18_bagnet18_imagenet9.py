# ReBias's 9-class ImageNet networks (§4.3): F, ResNet18 from scratch
# (receptive field 435); G, biased by design towards texture, BagNet18
# (ReBias's layout; its receptive field is 5 pixels, not the paper's 43: see
# docs/methods/rebias.md, and BagNet18(kernel3=(0, 0, 1, 2)) for RF 43).
classifier = dict(
    type='ImageClassifier',
    backbone=dict(type='ResNet18', pretrained=None),
    head=dict(type='GAPLinearHead'))
biased_classifiers = [
    dict(
        type='ImageClassifier',
        backbone=dict(type='BagNet18'),
        head=dict(type='GAPLinearHead'))
]

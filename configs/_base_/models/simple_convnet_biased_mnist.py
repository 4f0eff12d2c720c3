# ReBias's Biased MNIST networks (§4.1): F, four 7x7 conv + BN + ReLU layers,
# GAP and a linear classifier; G, biased by design towards colour, the same
# network with 1x1 kernels (a receptive field of one pixel). Methods with a
# set G (ReBias, RUBi, LearnedMixin+H) get biased_classifiers; the others
# ignore it.
classifier = dict(
    type='ImageClassifier',
    backbone=dict(type='SimpleConvNet', kernel_size=7,
                  channels=(16, 32, 64, 128)),
    head=dict(type='GAPLinearHead'))
biased_classifiers = [
    dict(
        type='ImageClassifier',
        backbone=dict(type='SimpleConvNet', kernel_size=1,
                      channels=(16, 32, 64, 128)),
        head=dict(type='GAPLinearHead'))
]

# ReBias: ToTensor + Normalize(0.5, 0.5), i.e. [-1, 1].
data_preprocessor = dict(
    mean=[127.5, 127.5, 127.5], std=[127.5, 127.5, 127.5])

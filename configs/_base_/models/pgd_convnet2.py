# PGD's Simple ConvNet-2 for Cartoon (its Figure 9): five convolutions with
# kernels 6, 6, 5, 5, 4 (the text) and 2x2 average pooling; the widths
# 8-16-16-32-32 are ours (unreadable in our copy of the figure). 224x224
# inputs give a 7x7 map. Normalisation comes with the dataset config.
classifier = dict(
    type='ImageClassifier',
    backbone=dict(type='PGDConvNet', channels=(8, 16, 16, 32, 32),
                  kernel_sizes=(6, 6, 5, 5, 4)),
    head=dict(type='GAPLinearHead'))

# PGD's Simple ConvNet-1 for the MNIST variants (its Figure 9, the official
# CONV): three 4x4 convolutions 8-32-64 with BN, ReLU, dropout and 2x2
# average pooling; GAP + linear.
classifier = dict(
    type='ImageClassifier',
    backbone=dict(type='PGDConvNet', channels=(8, 32, 64),
                  kernel_sizes=(4, 4, 4)),
    head=dict(type='GAPLinearHead'))
# uint8 pixels -> [0, 1] (ToTensor, as PGD's code).
data_preprocessor = dict(mean=[0., 0., 0.], std=[255., 255., 255.])

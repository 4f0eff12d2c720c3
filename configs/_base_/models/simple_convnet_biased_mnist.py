# ReBias's F for Biased MNIST: four 7x7 conv + BN + ReLU layers, GAP, linear.
classifier = dict(
    type='ImageClassifier',
    backbone=dict(type='SimpleConvNet', kernel_size=7,
                  channels=(16, 32, 64, 128)),
    head=dict(type='GAPLinearHead'))

# ReBias: ToTensor + Normalize(0.5, 0.5), i.e. [-1, 1].
data_preprocessor = dict(
    mean=[127.5, 127.5, 127.5], std=[127.5, 127.5, 127.5])

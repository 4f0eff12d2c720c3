# LfF's ResNet20 for 32x32 CIFAR images (option-A shortcuts, trained from
# scratch): Corrupted CIFAR-10 in LfF and CosFairNet. Normalisation and
# num_classes come with the dataset config.
classifier = dict(
    type='ImageClassifier',
    backbone=dict(type='ResNet20'),
    head=dict(type='GAPLinearHead'))

# A small ConvNet for 28x28 RGB digits with a 7x7 feature map, so that IE's
# spatial scores are defined; the same backbone for every method on
# SynthDigits and Colored MNIST. Filled into model.classifier by
# debiascls.apis.prepare_config; num_classes comes from the dataset config.
classifier = dict(
    type='ImageClassifier',
    backbone=dict(type='ConvNet', channels=(8, 16, 32)),
    head=dict(type='GAPLinearHead'))

# uint8 pixels -> [0, 1], as torchvision's ToTensor.
data_preprocessor = dict(mean=[0., 0., 0.], std=[255., 255., 255.])

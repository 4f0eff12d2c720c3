# LfF's MLP (3 hidden layers of 100) for 28x28 RGB digits, 10 classes.
classifier = dict(
    type='ImageClassifier',
    backbone=dict(
        type='MLP',
        in_channels=3,
        in_size=28,
        hidden_dims=(100, 100, 100),
        # The official code divides ToTensor's [0, 1] pixels by 255 again
        # inside the MLP (LfF module/mlp.py): inputs lie in [0, 1/255].
        input_scale=1 / 255),
    head=dict(type='GAPLinearHead', num_classes=10))

model = dict(
    type='Vanilla',
    classifier=classifier,
    # uint8 pixels -> [0, 1], as torchvision's ToTensor.
    data_preprocessor=dict(mean=[0., 0., 0.], std=[255., 255., 255.]))

# LfF's MLP (3 hidden layers of 100) for 28x28 RGB digits. Every algorithm
# takes this top-level classifier (debiascls.apis.prepare_config fills it
# into model.classifier); num_classes comes from the dataset config.
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
    head=dict(type='GAPLinearHead'))

# uint8 pixels -> [0, 1], as torchvision's ToTensor (merged into the model
# by mmengine's Runner).
data_preprocessor = dict(mean=[0., 0., 0.], std=[255., 255., 255.])

# CosFairNet's real-world classifier: ImageNet ResNet18 "topped with 3 MLP
# layers with 0.5 dropout between the layers" (its §5; the hidden widths
# 256 and 128 are ours). Weights from torchvision's cache or
# classifier.backbone.pretrained=PATH (see resnet18_pretrained.py).
classifier = dict(
    type='ImageClassifier',
    backbone=dict(type='ResNet18', pretrained='torchvision'),
    head=dict(type='GAPMLPHead', hidden_dims=(256, 128), dropout=0.5))

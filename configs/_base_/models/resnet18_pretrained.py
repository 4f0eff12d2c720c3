# torchvision's ResNet18 with ImageNet weights (IE's real-world sets), the
# layer4 map as f_emb and GAP + linear as f_cls. The weights come from
# torchvision's cache (torch.hub.get_dir()/checkpoints/resnet18-f37072fd.pth)
# or model.classifier.backbone.pretrained=PATH; offline, a missing file is a
# clear error (see docs/data_preparation.md). Normalisation comes with the
# dataset config (data_preprocessor), num_classes too.
classifier = dict(
    type='ImageClassifier',
    backbone=dict(type='ResNet18', pretrained='torchvision'),
    head=dict(type='GAPLinearHead'))

# PGD Table 4, ImageNet/ImageNet-A: pretrained ResNet18, SGD, lr 0.001,
# momentum 0.3, weight decay 0.3, batch 64, 100 epochs, LR decay 0.1 at
# 20/40/60/80 %.
optim_wrapper = dict(
    constructor='MultiModelOptimWrapperConstructor',
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.001, momentum=0.3, weight_decay=0.3))
param_scheduler = [
    dict(type='StageMultiStepLR', milestones=(0.2, 0.4, 0.6, 0.8),
         gamma=0.1)
]
train_cfg = dict(
    type='DebiasIterBasedTrainLoop', max_epochs=100, val_interval_epochs=5)
auto_scale_lr = dict(base_batch_size=64, enable=False)

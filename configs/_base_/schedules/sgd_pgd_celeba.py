# PGD Table 4, CelebA: pretrained ResNet18, SGD, lr 0.001, momentum 0.3,
# weight decay 0.1, batch 64, 50 epochs, LR decay 0.1 at 40/80 %. One
# epoch of the 162,770 training faces is 2,544 iterations of 64.
_epoch = 2544  # iterations per epoch
_stage = 50 * _epoch
optim_wrapper = dict(
    constructor='MultiModelOptimWrapperConstructor',
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.001, momentum=0.3, weight_decay=0.1))
param_scheduler = [
    dict(type='StageMultiStepLR', milestones=(0.4, 0.8), gamma=0.1)
]
train_cfg = dict(
    type='DebiasIterBasedTrainLoop', max_iters=_stage, val_interval=5 * _epoch)
auto_scale_lr = dict(base_batch_size=64, enable=False)

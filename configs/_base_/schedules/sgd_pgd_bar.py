# PGD Table 4, BAR: pretrained ResNet18, SGD, lr 0.001, momentum 0.3,
# weight decay 5e-4, batch 64, 100 epochs, LR decay 0.1 at 40/60/80 %.
# One epoch of the 1,941 training images is 31 iterations of 64 (the
# BiasEnsemble release we read has about as many).
_epoch = 31  # iterations per epoch
_stage = 100 * _epoch
optim_wrapper = dict(
    constructor='MultiModelOptimWrapperConstructor',
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.001, momentum=0.3, weight_decay=0.0005))
param_scheduler = [
    dict(type='StageMultiStepLR', milestones=(0.4, 0.6, 0.8), gamma=0.1)
]
train_cfg = dict(
    type='DebiasIterBasedTrainLoop', max_iters=_stage, val_interval=5 * _epoch)
auto_scale_lr = dict(base_batch_size=64, enable=False)

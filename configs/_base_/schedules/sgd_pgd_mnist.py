# PGD Table 4, MNIST variants (shared by every algorithm there): SGD, lr
# 0.01, momentum 0.8, weight decay 1e-3, batch 256, 100 epochs, "LR decay
# 0.001" at 20/40/60/80 % of training, applied as printed (gamma 0.001).
# One epoch of the 54,000 training digits (90 % of MNIST train) is 211
# iterations of 256.
_epoch = 211  # iterations per epoch
_stage = 100 * _epoch
optim_wrapper = dict(
    constructor='MultiModelOptimWrapperConstructor',
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.01, momentum=0.8, weight_decay=0.001))
param_scheduler = [
    dict(type='StageMultiStepLR', milestones=(0.2, 0.4, 0.6, 0.8), gamma=0.001)
]
train_cfg = dict(
    type='DebiasIterBasedTrainLoop', max_iters=_stage, val_interval=5 * _epoch)
auto_scale_lr = dict(base_batch_size=256, enable=False)

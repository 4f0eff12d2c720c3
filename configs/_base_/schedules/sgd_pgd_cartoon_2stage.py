# PGD Table 4, Cartoon: SGD, lr 0.002, momentum 0.9, weight decay 1e-3,
# batch 256, 100 epochs, LR decay 0.001 (as printed) at 20/40/60/80 %. One
# epoch: about 10,500 training cartoons of cartoonset100k after the bias
# subsampling (see debiascls/datasets/cartoon.py), 41 iterations.
_epoch = 41  # iterations per epoch
_stage = 100 * _epoch
optim_wrapper = dict(
    constructor='MultiModelOptimWrapperConstructor',
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.002, momentum=0.9, weight_decay=0.001))
# PGD trains f_b for one stage, then f_d for another of the same length
# (model.bias_iters = 0.5); each model's lr decays at fractions of its own
# stage (StageMultiStepLR follows max_iters).
param_scheduler = dict(
    biased=[
        dict(type='StageMultiStepLR', stage=(0, 0.5),
             milestones=(0.2, 0.4, 0.6, 0.8),
             gamma=0.001)
    ],
    debiased=[
        dict(type='StageMultiStepLR', stage=(0.5, 1),
             milestones=(0.2, 0.4, 0.6, 0.8),
             gamma=0.001)
    ])
train_cfg = dict(
    type='DebiasIterBasedTrainLoop', max_iters=2 * _stage,
    val_interval=5 * _epoch)
auto_scale_lr = dict(base_batch_size=256, enable=False)

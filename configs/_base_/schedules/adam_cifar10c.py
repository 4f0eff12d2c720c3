# LfF's Corrupted CIFAR-10 schedule: Adam, lr 1e-3, no weight decay, batch
# 256, 200 epochs of 196 iterations (39.2K), evaluated every 1K iterations.
# CosFairNet uses Adam 1e-3 and batch 256 too (its iterations are not given).
optim_wrapper = dict(
    constructor='MultiModelOptimWrapperConstructor',
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=1e-3, weight_decay=0))
param_scheduler = []
train_cfg = dict(
    type='DebiasIterBasedTrainLoop', max_iters=39200, val_interval=1000)
auto_scale_lr = dict(base_batch_size=256, enable=False)

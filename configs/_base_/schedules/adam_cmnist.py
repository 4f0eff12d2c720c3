# LfF's Colored MNIST schedule: Adam, lr 1e-3, no weight decay, 23.5K
# iterations (100 epochs of batch 256), evaluated every 1K iterations.
optim_wrapper = dict(
    constructor='MultiModelOptimWrapperConstructor',
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=1e-3, weight_decay=0))
param_scheduler = []
train_cfg = dict(
    type='DebiasIterBasedTrainLoop', max_iters=23500, val_interval=1000)
auto_scale_lr = dict(base_batch_size=256, enable=False)

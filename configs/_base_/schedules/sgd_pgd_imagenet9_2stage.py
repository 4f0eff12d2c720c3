# PGD's two stages on ImageNet: f_b for 100 epochs, then f_d for another 100
# (model.bias_iters = 0.5), each model's lr decaying at fractions of its own
# stage; otherwise as sgd_pgd_imagenet9.py.
_base_ = ['./sgd_pgd_imagenet9.py']
param_scheduler = dict(
    _delete_=True,
    biased=[
        dict(type='StageMultiStepLR', stage=(0, 0.5),
             milestones=(0.2, 0.4, 0.6, 0.8), gamma=0.1)
    ],
    debiased=[
        dict(type='StageMultiStepLR', stage=(0.5, 1),
             milestones=(0.2, 0.4, 0.6, 0.8), gamma=0.1)
    ])
train_cfg = dict(max_epochs=200)

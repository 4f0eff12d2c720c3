# BiasEnsemble's BAR schedule: as adam_50k.py with lr 1e-5 (its BAR scripts;
# the ResNet18 is ImageNet-pretrained there).
_base_ = ['./adam_50k.py']
optim_wrapper = dict(optimizer=dict(lr=1e-5))

_base_ = [
    '../_base_/models/simple_convnet_biased_mnist.py',
    '../_base_/methods/learned_mixin.py',
    '../_base_/datasets/biased_mnist.py',
    '../_base_/schedules/adam_biased_mnist_lm.py',
    '../_base_/default_runtime.py'
]
rho = 0.995
model = dict(pretrain_epochs=5)

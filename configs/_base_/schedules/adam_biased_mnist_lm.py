# ReBias's Biased MNIST schedule for LearnedMixin+H: G is pre-trained for
# 5 epochs first (its n_g_pretrain_epochs; model.pretrain_epochs), then f
# trains the usual 80 epochs, its lr x0.1 every 20 of them (the step counter
# starts with f).
_base_ = ['./adam_biased_mnist.py']
param_scheduler = [
    dict(type='StepLR', by_epoch=True, begin=5, step_size=20, gamma=0.1,
         end=85, convert_to_iter_based=True)
]
train_cfg = dict(max_epochs=85)

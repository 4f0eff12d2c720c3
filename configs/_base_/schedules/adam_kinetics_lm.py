# The action schedule for LearnedMixin+H: G pre-trained for 30 epochs, then
# f's 120 cosine epochs (the schedule counts from f's start).
_base_ = ['./adam_kinetics.py']
param_scheduler = [
    dict(type='CosineAnnealingLR', by_epoch=True, T_max=120, begin=30,
         end=150, convert_to_iter_based=True)
]
train_cfg = dict(max_epochs=150)

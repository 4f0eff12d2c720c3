_base_ = [
    '../_base_/models/convnet_digits.py', '../_base_/methods/ie.py',
    '../_base_/datasets/synthdigits.py',
    '../_base_/schedules/adam_synthdigits.py', '../_base_/default_runtime.py'
]
severity = '2pct'
# T1, T2 at the paper's fractions (1K, 10K) of BE's 50K-iteration schedule.
model = dict(t1=100, t2=1000)

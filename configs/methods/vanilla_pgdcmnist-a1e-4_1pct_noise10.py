# PGD Table 2: 10 % of the training labels flipped (seeded).
_base_ = ['./vanilla_pgdcmnist-a1e-4_1pct.py']
label_noise = 0.1

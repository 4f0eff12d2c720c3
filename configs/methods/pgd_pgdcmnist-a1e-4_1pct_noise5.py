# PGD Table 2: 5 % of the training labels flipped (seeded).
_base_ = ['./pgd_pgdcmnist-a1e-4_1pct.py']
label_noise = 0.05

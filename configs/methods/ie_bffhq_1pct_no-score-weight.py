# IE Table 3, row 3: x^BN drawn from D^BN, s(x^BN) not a loss weight (BFFHQ 1pct: paper 77.08 +- 2.05).
_base_ = ['./ie_bffhq_1pct.py']
model = dict(bn_score_weight=False)

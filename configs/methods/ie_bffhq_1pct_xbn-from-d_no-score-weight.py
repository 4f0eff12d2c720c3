# IE Table 3, row 1: x^BN drawn from D, s(x^BN) not a loss weight (BFFHQ 1pct: paper 71.04 +- 2.55).
_base_ = ['./ie_bffhq_1pct.py']
model = dict(bn_source='all', bn_score_weight=False)

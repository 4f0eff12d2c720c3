# IE Table 3, row 2: x^BN drawn from D_cand^BN, s(x^BN) not a loss weight (BFFHQ 1pct: paper 75.64 +- 1.87).
_base_ = ['./ie_bffhq_1pct.py']
model = dict(bn_source='candidate', bn_score_weight=False)

# IE Table 3, row 5: without L_BN (BFFHQ 1pct: paper 74.84 +- 2.00).
_base_ = ['./ie_bffhq_1pct.py']
model = dict(use_bn_loss=False)

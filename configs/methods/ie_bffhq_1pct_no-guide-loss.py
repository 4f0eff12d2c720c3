# IE Table 3, row 4: without L_guide (BFFHQ 1pct: paper 76.92 +- 1.03).
_base_ = ['./ie_bffhq_1pct.py']
model = dict(use_guide_loss=False)

# ReBias for action recognition: HSIC on the logits and the median heuristic
# for the radii, as the paper's appendix says (the official main_action.py
# uses GAP features and a fixed radius of 1; see docs/methods/rebias.md).
_base_ = ['./rebias_median.py']
model = dict(hsic_on='logits')

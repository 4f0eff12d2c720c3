# RUBi (Cadene et al., NeurIPS 2019) with ReBias's biased-by-design G as the
# bias-only branch, trained jointly with f: L_QM (f's logits masked by
# sigmoid(g)) + L_QO (a classifier on g's logits).
model = dict(type='RUBi', qo_weight=1.0)

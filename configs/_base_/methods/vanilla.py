# Vanilla: ERM with the top-level classifier.
model = dict(type='Vanilla')

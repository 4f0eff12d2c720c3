"""Fixtures of the tool tests."""
import pytest


@pytest.fixture(scope='session')
def tiny_synth(tmp_path_factory) -> str:
    """A tiny SynthDigits copy (5pct), as tests/test_integration uses."""
    from debiascls.datasets.synth_digits import (generate_synth_digits,
                                                 synth_digits_dir)
    root = str(tmp_path_factory.mktemp('synthdigits'))
    generate_synth_digits(
        synth_digits_dir(root, 0, 40, 100, 1), ['5pct'],
        train_size=40, valid_size=100, test_per_cell=1)
    return root

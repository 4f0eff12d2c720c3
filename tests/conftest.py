"""Test-session settings shared by every test."""
import os

import torch

if os.environ.get('PYTEST_XDIST_WORKER'):
    # pytest.ini runs one xdist worker per core: one torch thread each, so
    # the workers (and the tools they start, which get OMP_NUM_THREADS=1)
    # do not oversubscribe the cores.
    torch.set_num_threads(1)

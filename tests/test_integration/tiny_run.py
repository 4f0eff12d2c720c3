"""Shared helpers: tiny SynthDigits runs of the shipped configs."""
import os
import subprocess
import sys
from pathlib import Path
from typing import List


REPO = Path(__file__).resolve().parents[2]
CONFIG = str(REPO / 'configs/methods/vanilla_synthdigits_1pct.py')


def tiny_options(data_root: str, max_iters: int = 6) -> List[str]:
    """--cfg-options that shrink the default config to a few seconds: a
    40/100/100-digit SynthDigits at 5pct, batches of 8, no workers."""
    opts = [f'train_cfg.max_iters={max_iters}', 'train_cfg.val_interval=3',
            'default_hooks.checkpoint.interval=3',
            'default_hooks.logger.interval=1', f'data_root={data_root}',
            'severity=5pct']
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        opts += [
            f'{loader}.batch_size=8', f'{loader}.num_workers=0',
            f'{loader}.persistent_workers=False',
            f'{loader}.dataset.train_size=40',
            f'{loader}.dataset.valid_size=100',
            f'{loader}.dataset.test_per_cell=1'
        ]
    return opts


def run_tool(args: List[str], cwd: Path, check: bool = True
             ) -> subprocess.CompletedProcess:
    """Run ``args`` (a tools/ command line) in a fresh interpreter."""
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS='1')
    proc = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    if check and proc.returncode != 0:
        raise AssertionError(f'{args} failed ({proc.returncode}):\n'
                             f'{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}')
    return proc


def python_tool(name: str, *args: str) -> List[str]:
    return [sys.executable, str(REPO / 'tools' / name), *args]

"""Tiny SynthDigits runs for the visualisation and analysis-tool tests: a
200-sample training set (5pct: one bias-conflicting sample per class), the
integration tests' shrunk configs, and tools/ scripts imported in-process
(a fresh interpreter per tool would cost its imports, about 4 s, each)."""
import importlib.util
import sys
from pathlib import Path
from typing import List

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / 'tests' / 'test_integration'))

from tiny_run import python_tool, run_tool, tiny_options  # noqa: E402

TRAIN_SIZE = 200
SPLIT_LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')
#: IE with a committee of 3-iteration models, T1 = 1, T2 = 4.
IE_OPTIONS = ['custom_hooks.0.num_iters=3', 'custom_hooks.0.valid_interval=2',
              'model.t1=1', 'model.t2=4']


def make_synth_digits(root: str) -> str:
    """Generate the tiny SynthDigits copy under ``root``."""
    from debiascls.datasets.synth_digits import (generate_synth_digits,
                                                 synth_digits_dir)
    generate_synth_digits(
        synth_digits_dir(root, 0, TRAIN_SIZE, 100, 1), ['5pct'],
        train_size=TRAIN_SIZE, valid_size=100, test_per_cell=1)
    return root


def synth_options(data_root: str, max_iters: int = 8) -> List[str]:
    """--cfg-options of a run of ``max_iters`` iterations on the copy, with
    a checkpoint (kept) and an evaluation every 2 iterations."""
    return tiny_options(data_root, max_iters) + [
        f'{loader}.dataset.train_size={TRAIN_SIZE}'
        for loader in SPLIT_LOADERS
    ] + [
        'train_dataloader.batch_size=32',
        'default_hooks.checkpoint.interval=2', 'train_cfg.val_interval=4',
        'default_hooks.checkpoint.max_keep_ckpts=-1'
    ]


def config(method: str, dataset: str = 'synthdigits',
           setting: str = '1pct') -> str:
    return str(REPO / 'configs' / 'methods' /
               f'{method}_{dataset}_{setting}.py')


def train(config_path: str, work_dir, options: List[str]) -> str:
    """Run tools/train.py; returns its output."""
    proc = run_tool(python_tool('train.py', config_path, '--work-dir',
                                str(work_dir), '--cfg-options', *options),
                    REPO)
    return proc.stdout + proc.stderr


def load_tool(relpath: str):
    """Import ``tools/<relpath>`` as a module; its ``main(argv)`` runs
    in-process."""
    name = 'tool_' + relpath.replace('/', '_').replace('.py', '')
    spec = importlib.util.spec_from_file_location(name,
                                                  REPO / 'tools' / relpath)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module

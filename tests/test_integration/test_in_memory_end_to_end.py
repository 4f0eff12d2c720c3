"""The in-memory path through tools/train.py gives the runs of the file
path bit for bit: same batches, same committee, same x^BN (IE), same
checkpoints and metrics."""
import os

import pytest
import torch

from debiascls.engine.checkpoint import safe_torch_load
from debiascls.engine.results import read_results

from tiny_run import REPO, python_tool, run_tool, tiny_options

FILES = [f'{loader}.in_memory=None' for loader in
         ('train_dataloader', 'val_dataloader', 'test_dataloader')]
#: IE with a committee of 3-iteration models and T1 = 2, T2 = 4: the
#: guided iterations load x^BN (by index) from the store or the files.
METHODS = {
    'lff': [],
    'ie': ['custom_hooks.0.num_iters=3', 'custom_hooks.0.valid_interval=2',
           'model.t1=2', 'model.t2=4'],
}


def _train(method, work_dir, data_root, extra):
    config = str(REPO / f'configs/methods/{method}_synthdigits_1pct.py')
    proc = run_tool(
        python_tool('train.py', config, '--work-dir', str(work_dir),
                    '--cfg-options', *tiny_options(data_root, max_iters=6),
                    *METHODS[method], *extra), REPO)
    return proc.stdout + proc.stderr


@pytest.mark.parametrize('method', list(METHODS))
def test_in_memory_equals_files(method, tmp_path, tiny_data):
    log = _train(method, tmp_path / 'memory', tiny_data, [])
    assert 'in_memory: decoded the train split (40 samples' in log
    log = _train(method, tmp_path / 'files', tiny_data, FILES)
    assert 'in_memory: decoded' not in log
    a = safe_torch_load(str(tmp_path / 'memory' / 'iter_6.pth'))
    b = safe_torch_load(str(tmp_path / 'files' / 'iter_6.pth'))
    assert a['state_dict'].keys() == b['state_dict'].keys()
    for key in a['state_dict']:
        assert torch.equal(a['state_dict'][key], b['state_dict'][key]), key

    def metrics(run):
        return [(r['split'], r['iter'], r['metrics']) for r in read_results(
            os.path.join(tmp_path, run, 'results.jsonl'))]

    assert metrics('memory') == metrics('files')

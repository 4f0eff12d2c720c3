"""Vanilla through the real tools: train, checkpoint, resume, test, and a
2-process CPU run, on a tiny SynthDigits copy."""
import json
import os
import shutil
import socket

import torch

from debiascls.engine.checkpoint import safe_torch_load
from debiascls.engine.results import read_results

from tiny_run import CONFIG, REPO, python_tool, run_tool, tiny_options


def _records(work_dir, **match):
    path = os.path.join(work_dir, 'results.jsonl')
    return [
        r for r in read_results(path)
        if all(r.get(k) == v for k, v in match.items())
    ]


def _assert_same_state(a, b, where=''):
    if isinstance(a, torch.Tensor):
        assert torch.equal(a, b), where
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for key in a:
            _assert_same_state(a[key], b[key], f'{where}.{key}')
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_same_state(x, y, f'{where}[{i}]')
    else:
        assert a == b, where


def test_train_resume_and_test(tmp_path, tiny_data):
    opts = tiny_options(tiny_data)
    full = tmp_path / 'full'
    proc = run_tool(
        python_tool('train.py', CONFIG, '--work-dir', str(full),
                    '--cfg-options', *opts), REPO)
    # The summary table of the last evaluation is printed.
    assert 'conflicting_acc' in proc.stdout + proc.stderr
    assert {'iter_3.pth', 'iter_6.pth'} <= set(os.listdir(full))
    assert any(n.startswith('best_valid_conflicting_acc') for n in
               os.listdir(full))
    final = _records(full, mode='val', iter=6)
    assert {r['split'] for r in final} == {'valid', 'test'}
    test_rec = next(r for r in final if r['split'] == 'test')
    # The whole test split (10 classes x 10 colours x 1) is evaluated.
    assert sum(map(sum, test_rec['tables']['cell_count'])) == 100
    assert os.path.isfile(full / 'cell_acc' / 'val_test_6.json')

    # Resume from the mid-run checkpoint: same weights, optimizer state and
    # metrics as the uninterrupted run.
    resumed = tmp_path / 'resumed'
    resumed.mkdir()
    shutil.copy(full / 'iter_3.pth', resumed / 'iter_3.pth')
    proc = run_tool(
        python_tool('train.py', CONFIG, '--work-dir', str(resumed),
                    '--resume', str(resumed / 'iter_3.pth'), '--cfg-options',
                    *opts), REPO)
    # Iteration 3 is validated, but this work dir has no record of it (as
    # after a job killed between the checkpoint and the validation): the
    # resumed run validates it first, with the uninterrupted run's metrics.
    assert 'validating before training on' in proc.stdout + proc.stderr
    for split in ('valid', 'test'):
        assert (_records(resumed, mode='val', iter=3, split=split)[0]
                ['metrics'] == _records(full, mode='val', iter=3,
                                        split=split)[0]['metrics'])
    a = safe_torch_load(str(full / 'iter_6.pth'))
    b = safe_torch_load(str(resumed / 'iter_6.pth'))
    _assert_same_state(a['state_dict'], b['state_dict'], 'state_dict')
    _assert_same_state(a['optimizer'], b['optimizer'], 'optimizer')
    assert a['meta']['iter'] == b['meta']['iter'] == 6
    for split in ('valid', 'test'):
        want = next(r for r in final if r['split'] == split)['metrics']
        got = _records(resumed, mode='val', iter=6, split=split)[0]['metrics']
        assert got == want

    # tools/test.py on the final checkpoint reproduces the final metrics and
    # writes predictions and accuracy matrices.
    out = tmp_path / 'test'
    run_tool(
        python_tool('test.py', CONFIG, str(full / 'iter_6.pth'),
                    '--work-dir', str(out), '--out', str(out / 'preds.pkl'),
                    '--show-dir', 'vis', '--cfg-options', *opts), REPO)
    tested = {r['split']: r for r in _records(out, mode='test')}
    assert set(tested) == {'test', 'valid'}
    assert tested['test']['metrics'] == test_rec['metrics']
    assert tested['test']['checkpoint'].endswith('iter_6.pth')
    assert os.path.getsize(out / 'preds.pkl') > 0
    pngs = sorted(os.listdir(out / 'vis'))
    assert 'test_main_model_cell_acc.png' in pngs, pngs
    # Named after the checkpoint's iteration.
    matrix = json.loads(
        (out / 'cell_acc' / 'test_test_6.json').read_text())['cell_acc']
    assert len(matrix) == 10 and len(matrix[0]) == 10

    # Resumed where the validation of iteration 3 is on record: not again.
    proc = run_tool(
        python_tool('train.py', CONFIG, '--work-dir', str(full), '--resume',
                    str(full / 'iter_3.pth'), '--cfg-options', *opts), REPO)
    assert 'validating before training on' not in proc.stdout + proc.stderr
    assert len(_records(full, mode='val', iter=3, split='test')) == 1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def test_dist_train_two_cpu_processes(tmp_path, tiny_data):
    work = tmp_path / 'dist'
    os.environ['PORT'] = str(_free_port())
    try:
        proc = run_tool([
            'bash', str(REPO / 'tools/dist_train.sh'), CONFIG, '2',
            '--work-dir', str(work), '--cfg-options',
            *tiny_options(tiny_data)
        ], REPO)
    finally:
        os.environ.pop('PORT')
    log = proc.stdout + proc.stderr
    assert 'gloo' in log
    final = {r['split']: r for r in _records(work, mode='val', iter=6)}
    assert set(final) == {'valid', 'test'}
    # Metrics cover the whole split, not one rank's half.
    assert sum(map(sum, final['test']['tables']['cell_count'])) == 100
    assert sum(map(sum, final['valid']['tables']['cell_count'])) == 100
    ckpt = safe_torch_load(str(work / 'iter_6.pth'))
    assert ckpt['meta']['iter'] == 6

    # Testing the checkpoint with 2 processes gives the metrics of the
    # evaluation at the end of training.
    os.environ['PORT'] = str(_free_port())
    try:
        run_tool([
            'bash', str(REPO / 'tools/dist_test.sh'), CONFIG,
            str(work / 'iter_6.pth'), '2', '--work-dir', str(tmp_path / 't'),
            '--cfg-options', *tiny_options(tiny_data)
        ], REPO)
    finally:
        os.environ.pop('PORT')
    tested = {r['split']: r for r in _records(tmp_path / 't', mode='test')}
    for split in ('valid', 'test'):
        assert tested[split]['metrics'] == final[split]['metrics'], split

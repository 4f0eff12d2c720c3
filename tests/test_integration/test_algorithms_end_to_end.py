"""LfF, LfF+BE and IE through the real tools on a tiny SynthDigits copy:
train, checkpoint, resume (per-sample tables included), test, reuse of the
committee cache, and a 2-process CPU run with identical tables on both
ranks."""
import json
import os
import shutil
import socket

import numpy as np
import pytest
import torch

from debiascls.engine.checkpoint import safe_torch_load
from debiascls.engine.results import read_results

from tiny_run import REPO, python_tool, run_tool, tiny_options

#: A committee of 5 models of 3 iterations each, validated at steps 0, 2.
COMMITTEE = ['custom_hooks.0.num_iters=3', 'custom_hooks.0.valid_interval=2']
#: DisEnt's swap after iteration 4 and its StepLR from there on.
DISENT = ['model.curr_step=4', 'param_scheduler.0.begin=4',
          'param_scheduler.0.step_size=2']
METHODS = {
    'lff': [],
    'lff_be': COMMITTEE,
    # T1 = 2, T2 = 4: the checkpoint of iteration 3 lies between them.
    'ie': COMMITTEE + ['model.t1=2', 'model.t2=4'],
    'cosfairnet': [],
    # the second update with an optimizer (Adam) of its own, checkpointed
    'cosfairnet-separate': ['model.realign_optimizer=separate'],
    # Step 2 after iteration 4 (bias_iters = 0.5 of 8): the checkpoint of
    # iteration 3 is before the switch (resumed here), 6 after it (below).
    'pgd': [],
    # f_b on the raw training set (the paper's text), f_d on augmented ones
    'pgd-rawfb': ['custom_hooks.0.bias_pipeline=test'],
    'pgd-official': [],
    # PGD behind its de-noising module (a noise model of 3 iterations)
    'pgd-denoise': ['custom_hooks.0.num_iters=3'],
    # the swap from iteration 5 on (step > curr_step = 4) and the lr halved
    # at iterations 6 and 8: the checkpoint of iteration 3 is before both
    'disent': DISENT,
    'disent_be': COMMITTEE + DISENT,
}


def _config(method):
    if method.startswith('cosfairnet'):  # its own MLP config on Colored MNIST; the
        # tiny SynthDigits copy has the same 28x28 digits and layout
        return str(REPO / 'configs/methods/cosfairnet_cmnist_1pct.py')
    if method == 'pgd-rawfb':
        method = 'pgd'
    return str(REPO / f'configs/methods/{method}_synthdigits_1pct.py')


def _options(data_root, method):
    extra = []
    if method.startswith('cosfairnet'):
        extra = [
            f'{loader}.dataset.type=SynthDigits'
            for loader in ('train_dataloader', 'val_dataloader',
                           'test_dataloader')
        ]
    return tiny_options(data_root, max_iters=8) + extra + [
        'default_hooks.checkpoint.interval=3', 'train_cfg.val_interval=4',
        'default_hooks.checkpoint.max_keep_ckpts=-1'
    ] + METHODS[method]


def _metrics(work_dir, mode, iteration=None):
    return {(r['split']): r['metrics']
            for r in read_results(os.path.join(work_dir, 'results.jsonl'))
            if r['mode'] == mode and (iteration is None
                                      or r['iter'] == iteration)}


def _scalars(work_dir):
    """Logged training scalars, one dict per logged iteration
    (vis_data/scalars.json of the run)."""
    runs = sorted(os.listdir(work_dir))
    path = [
        os.path.join(work_dir, r, 'vis_data', 'scalars.json') for r in runs
        if os.path.isfile(os.path.join(work_dir, r, 'vis_data',
                                       'scalars.json'))
    ][-1]
    with open(path) as f:
        records = [json.loads(line) for line in f]
    return [r for r in records if 'loss_d' in r
            or 'loss_dis_conflict' in r]


@pytest.mark.parametrize('method', list(METHODS))
def test_train_resume_and_test(method, tmp_path, tiny_data):
    config, opts = _config(method), _options(tiny_data, method)
    full = tmp_path / 'full'
    proc = run_tool(
        python_tool('train.py', config, '--work-dir', str(full),
                    '--cfg-options', *opts), REPO)
    log = proc.stdout + proc.stderr
    final = _metrics(full, 'val', 8)
    assert set(final) == {'valid', 'test'}
    # Both models are evaluated: the debiased one unprefixed, f_b prefixed.
    assert {'conflicting_acc', 'biased/conflicting_acc'} <= set(
        final['test'])

    a = safe_torch_load(str(full / 'iter_8.pth'))
    tables = {k for k in a['state_dict'] if k.startswith('per_sample.')}
    assert a['state_dict']['per_sample.gt_label'].shape == (40, )
    if not method.startswith('pgd'):
        assert {'per_sample.loss_b', 'per_sample.loss_d'} <= tables
    assert 'random_state' in a
    if method == 'cosfairnet-separate':
        assert set(a['optimizer']) == {'biased', 'debiased', 'realign'}
        assert a['optimizer']['realign']['state']  # Adam moments saved
    if method.startswith('pgd'):
        assert {'per_sample.sampling_prob', 'per_sample.pgd_score'} <= tables
        assert bool(a['state_dict']['scores_ready'])
        assert os.path.isfile(full / 'pgd_scores.npz')
        probs = a['state_dict']['per_sample.sampling_prob']
        if method != 'pgd-official':
            assert probs.max() == 1  # p_s = min S / S
        else:
            assert abs(float(probs.sum()) - 1) < 1e-5
        assert 'PGDScoringHook: sampling probabilities' in log
        # f_b: the augmenting training pipeline in both stages (the
        # default) or the raw training set (bias_pipeline='test').
        raw = 'step 1 trains f_b on the raw training set' in log
        assert raw == (method == 'pgd-rawfb')
    if method == 'pgd-denoise':
        assert 'DenoisingHook: D_clean keeps' in log
        with np.load(full / 'denoising.npz') as cache:
            clean = cache['clean']
        assert clean.shape == (40, ) and clean.any()
        # PGD scores D_clean only: the removed samples are never drawn.
        assert (probs[torch.from_numpy(~clean)] == 0).all()
    if method in ('lff_be', 'ie', 'disent_be'):
        assert 'BiasCommitteeHook: |D^A|' in log
        assert os.path.isfile(full / 'bias_committee.npz')
        assert bool(a['state_dict']['bias_sets_ready'])
    if method.startswith('disent'):
        logged = _scalars(full)
        assert [s['lambda_swap'] for s in logged] == [0] * 5 + [1] * 3
        assert [s['debiased.lr'] for s in logged] == pytest.approx(
            [1e-3] * 6 + [5e-4] * 2)
        assert all('loss_swap_conflict' in s for s in logged[5:])
        # both classifiers on [z_i, z_b]
        assert a['state_dict']['models.debiased.head.fc.weight'].shape[
            1] == 2 * 32
    if method == 'ie':
        assert {'per_sample.bn_score', 'per_sample.bn_ref'} <= tables
        logged = _scalars(full)
        assert [s['lambda_main'] for s in logged] == pytest.approx(
            [0, 0, 0, 0, 0, 1 / 3, 2 / 3, 1])
        assert [s['phase_guidance'] for s in logged] == [0] * 4 + [1] * 4
        assert all('bn_set_size' in s and 'bn_score_mean' in s
                   for s in logged)
        # From T1 on, reference losses exist for the samples seen since.
        assert a['state_dict']['per_sample.bn_ref_seen'].any()

    # Resume from iteration 3 (for IE: between T1 and T2): same weights,
    # optimizers, per-sample tables and metrics as the uninterrupted run.
    resumed = tmp_path / 'resumed'
    resumed.mkdir()
    shutil.copy(full / 'iter_3.pth', resumed / 'iter_3.pth')
    proc = run_tool(
        python_tool('train.py', config, '--work-dir', str(resumed),
                    '--resume', str(resumed / 'iter_3.pth'), '--cfg-options',
                    *opts), REPO)
    if method in ('lff_be', 'ie', 'disent_be'):
        assert 'restored from the checkpoint' in proc.stdout + proc.stderr
    b = safe_torch_load(str(resumed / 'iter_8.pth'))
    assert a['state_dict'].keys() == b['state_dict'].keys()
    for key in a['state_dict']:
        assert torch.equal(a['state_dict'][key], b['state_dict'][key]), key
    assert _metrics(resumed, 'val', 8) == final

    # tools/test.py reports the metrics of the final evaluation (for
    # DisEnt also drawing Grad-CAM of each encoder, the other held fixed).
    show = (['--show-dir', 'vis'] if method.startswith('disent') else [])
    run_tool(
        python_tool('test.py', config, str(full / 'iter_8.pth'),
                    '--work-dir', str(tmp_path / 'test'), *show,
                    '--cfg-options', *opts), REPO)
    if show:
        for name in ('debiased', 'biased'):
            assert os.listdir(tmp_path / 'test' / 'vis' / 'gradcam' / name)
    tested = _metrics(tmp_path / 'test', 'test')
    assert tested['test'] == final['test']
    assert tested['valid'] == final['valid']


def test_pgd_resumed_after_the_sampler_switch(tmp_path, tiny_data):
    config, opts = _config('pgd'), _options(tiny_data, 'pgd')
    full = tmp_path / 'full'
    run_tool(python_tool('train.py', config, '--work-dir', str(full),
                         '--cfg-options', *opts), REPO)
    resumed = tmp_path / 'resumed'
    resumed.mkdir()
    shutil.copy(full / 'iter_6.pth', resumed / 'iter_6.pth')
    proc = run_tool(
        python_tool('train.py', config, '--work-dir', str(resumed),
                    '--resume', str(resumed / 'iter_6.pth'), '--cfg-options',
                    *opts), REPO)
    assert 'sampling probabilities restored from the checkpoint' in (
        proc.stdout + proc.stderr)
    a = safe_torch_load(str(full / 'iter_8.pth'))['state_dict']
    b = safe_torch_load(str(resumed / 'iter_8.pth'))['state_dict']
    for key in a:
        assert torch.equal(a[key], b[key]), key
    assert _metrics(resumed, 'val', 8) == _metrics(full, 'val', 8)


def test_committee_cache_is_reused(tmp_path, tiny_data):
    opts = _options(tiny_data, 'lff_be') + ['train_cfg.max_iters=1']
    work = tmp_path / 'work'
    run_tool(
        python_tool('train.py', _config('lff_be'), '--work-dir', str(work),
                    '--cfg-options', *opts), REPO)
    first = safe_torch_load(str(work / 'iter_1.pth'))['state_dict']
    proc = run_tool(
        python_tool('train.py', _config('lff_be'), '--work-dir', str(work),
                    '--cfg-options', *opts), REPO)
    log = proc.stdout + proc.stderr
    assert 'loaded the committee\'s outputs' in log
    assert 'training 5 biased models' not in log
    again = safe_torch_load(str(work / 'iter_1.pth'))['state_dict']
    for key in ('per_sample.amplified', 'per_sample.bn_candidate'):
        assert torch.equal(first[key], again[key])
    # Other committee settings: trained again.
    proc = run_tool(
        python_tool('train.py', _config('lff_be'), '--work-dir', str(work),
                    '--cfg-options', *opts, 'custom_hooks.0.num_iters=2'),
        REPO)
    assert 'training 5 biased models' in proc.stdout + proc.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@pytest.mark.parametrize('method', ['ie', 'disent_be'])
def test_two_cpu_processes_keep_identical_tables(method, tmp_path,
                                                 tiny_data):
    work = tmp_path / 'dist'
    os.environ['PORT'] = str(_free_port())
    try:
        proc = run_tool([
            'bash', str(REPO / 'tools/dist_train.sh'), _config(method), '2',
            '--work-dir', str(work), '--cfg-options',
            *_options(tiny_data, method),
            'default_hooks.per_sample_sync_check.interval=1'
        ], REPO)
    finally:
        os.environ.pop('PORT')
    log = proc.stdout + proc.stderr
    assert 'per-sample tables identical on 2 ranks' in log
    final = _metrics(work, 'val', 8)
    assert set(final) == {'valid', 'test'}


@pytest.mark.parametrize('method', ['pgd', 'pgd-denoise'])
def test_pgd_two_cpu_processes(method, tmp_path, tiny_data):
    """Step 2 sharded over 2 ranks (per-sample gradients gathered, per-class
    sums all-reduced), the de-noising mask broadcast, and the weighted
    sampler on both ranks: the ranks end with identical tables, and every
    sample PGD may draw has a probability."""
    work = tmp_path / 'dist'
    os.environ['PORT'] = str(_free_port())
    try:
        proc = run_tool([
            'bash', str(REPO / 'tools/dist_train.sh'), _config(method), '2',
            '--work-dir', str(work), '--cfg-options',
            *_options(tiny_data, method),
            'default_hooks.per_sample_sync_check.interval=1',
            # here the noise model scores the raw images (the single-process
            # test above covers the default, the training pipeline's)
            *(['custom_hooks.0.score_pipeline=test']
              if method == 'pgd-denoise' else [])
        ], REPO)
    finally:
        os.environ.pop('PORT')
    log = proc.stdout + proc.stderr
    assert 'per-sample tables identical on 2 ranks' in log
    assert ('scored on the raw training images' in log) == (
        method == 'pgd-denoise')
    with np.load(work / 'pgd_scores.npz') as scores:
        probs = scores['sampling_prob']
    state = safe_torch_load(str(work / 'iter_8.pth'))['state_dict']
    assert np.allclose(state['per_sample.sampling_prob'].numpy(), probs)
    if method == 'pgd':
        assert (probs > 0).all()
    else:  # exactly the samples the de-noising module kept (rank 0's mask)
        with np.load(work / 'denoising.npz') as cache:
            kept = cache['clean'].astype(bool)
        assert kept.any()
        assert np.array_equal(probs > 0, kept)
    assert np.isclose(probs.max(), 1.0)
    assert _metrics(work, 'val', 8).keys() == {'valid', 'test'}

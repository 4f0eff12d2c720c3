"""tools/sweep.py: the grid and its plan, commands of every launcher, skipping
finished runs, safe resumption, and a sweep killed with SIGTERM mid-way and
restarted, on tiny SynthDigits runs."""
import glob
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from debiascls.engine.results import read_results
from debiascls.evaluation.selection import _evaluations
from tool_helpers import CONFIG, REPO, load_tool, tiny_options

sweep = load_tool('sweep.py', 'sweep_tool')
IE = os.path.join(REPO, 'configs', 'methods', 'ie_synthdigits_1pct.py')


def _run(capsys, *argv):
    code = sweep.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_grid_names_runs_by_config_options_and_seed(tmp_path):
    assert sweep.split_values("1,[2,3],'a,b'") == ['1', '[2,3]', "'a,b'"]
    runs, notes = sweep.build_grid(
        [IE, CONFIG], [0, 1], ['model.tau=1,2', 'model.t1=5'], ['x=1'],
        str(tmp_path))
    names = [os.path.relpath(r.work_dir, tmp_path) for r in runs]
    assert names == [
        'ie_synthdigits_1pct/tau-1_t1-5/seed0',
        'ie_synthdigits_1pct/tau-1_t1-5/seed1',
        'ie_synthdigits_1pct/tau-2_t1-5/seed0',
        'ie_synthdigits_1pct/tau-2_t1-5/seed1',
        # Vanilla has no tau / t1: one run per seed, and a note
        'vanilla_synthdigits_1pct/seed0', 'vanilla_synthdigits_1pct/seed1'
    ]
    assert runs[2].cfg_options() == ['x=1', 'model.tau=2', 'model.t1=5']
    assert runs[2].job_name == 'ie_synthdigits_1pct_tau-2_t1-5_seed0'
    assert notes == [
        'vanilla_synthdigits_1pct does not set model.tau; its runs do not '
        'sweep it (set it in the config to sweep it).',
        'vanilla_synthdigits_1pct does not set model.t1; its runs do not '
        'sweep it (set it in the config to sweep it).'
    ]
    with pytest.raises(sweep.SweepError, match='both map to the work dir'):
        sweep.build_grid([IE], [0], ['model.tau=a/b,a-b'], [], str(tmp_path))
    with pytest.raises(sweep.SweepError, match='is not KEY=V1,V2'):
        sweep.build_grid([IE], [0], ['model.tau'], [], str(tmp_path))
    with pytest.raises(sweep.SweepError, match='do not exist'):
        sweep.build_grid(['nope.py'], [0], [], [], str(tmp_path))


def test_dry_run_and_launchers(tmp_path, capsys, monkeypatch):
    base = ['--configs', IE, '--seeds', '0', '1', '--options',
            'model.tau=1,2', '--work-dir', str(tmp_path / 's')]
    code, out, _ = _run(capsys, *base, '--gpus', '0', '1', '--jobs', '3',
                        '--dry-run')
    assert code == 0
    assert 'Sweep of 4 runs' in out and 'Plan: 4 new.' in out
    # three slots over two GPUs, the cores split between them
    threads = max(1, len(os.sched_getaffinity(0)) // 3)
    for slot, gpu in enumerate(('0', '1', '0')):
        assert (f'slot {slot}: OMP_NUM_THREADS={threads} MKL_NUM_THREADS='
                f'{threads} CUDA_VISIBLE_DEVICES={gpu}') in out
    assert (f'tools/train.py {IE} --work-dir {tmp_path}/s/ie_synthdigits_1pct'
            '/tau-2/seed1 --seed 1 --cfg-options model.tau=2') in out
    assert not (tmp_path / 's').exists()  # a dry run writes nothing

    code, out, _ = _run(capsys, *base, '--launcher', 'pytorch',
                        '--gpus-per-run', '2', '--gpus', '0', '1', '2', '3',
                        '--dry-run')
    assert code == 0
    assert 'slot 0: CUDA_VISIBLE_DEVICES=0,1 PORT=29500' in out
    assert 'slot 1: CUDA_VISIBLE_DEVICES=2,3 PORT=29501' in out
    assert f'tools/dist_train.sh {IE} 2 --work-dir' in out

    # slurm: printed without srun or sbatch on PATH
    monkeypatch.setenv('PATH', str(tmp_path))
    code, out, _ = _run(capsys, *base, '--launcher', 'slurm', '--partition',
                        'gpu', '--gpus-per-run', '2')
    assert code == 0
    lines = [line for line in out.splitlines() if 'slurm_train.sh' in line]
    assert len(lines) == 4
    assert lines[0].startswith('GPUS=2 GPUS_PER_NODE=2 bash ')
    assert (f'slurm_train.sh gpu ie_synthdigits_1pct_tau-1_seed0 {IE} '
            f'{tmp_path}/s/ie_synthdigits_1pct/tau-1/seed0 --seed 0 '
            '--cfg-options model.tau=1') in lines[0]
    assert 'collect_results.py' in out
    code, _, err = _run(capsys, *base, '--launcher', 'slurm', '--partition',
                        'gpu', '--submit')
    assert code == 1 and 'srun is not on PATH' in err


def _val(it, split):
    return dict(mode='val', iter=it, split=split, metrics={'acc': 1.0},
                config='c', seed=0, max_iters=6,
                eval_splits=['valid', 'test'])


def test_resume_point_never_skips_a_validation(tmp_path):
    run = tmp_path / 'run'
    run.mkdir()
    for name in ('iter_3.pth', 'iter_6.pth', 'last_checkpoint'):
        (run / name).write_text('x')
    results = run / 'results.jsonl'

    def write(*records, tail=''):
        results.write_text(''.join(json.dumps(r) + '\n' for r in records) +
                           tail)

    # killed between saving iter_6.pth and validating at 6: resume from 3,
    # which validates at 6 again
    write(_val(3, 'valid'), _val(3, 'test'), _val(6, 'valid'))
    assert sweep.resume_checkpoint(str(run)) == str(run / 'iter_3.pth')
    assert not sweep.is_finished(str(run))
    write(_val(3, 'valid'), _val(3, 'test'), _val(6, 'valid'), _val(6, 'test'))
    assert sweep.resume_checkpoint(str(run)) == str(run / 'iter_6.pth')
    assert sweep.is_finished(str(run))  # validated at max_iters
    write(_val(3, 'valid'))  # no complete validation yet: start over
    assert sweep.resume_checkpoint(str(run)) is None
    # files written before eval_splits: the splits of other validations
    old = [dict(_val(i, s), eval_splits=None) for i, s in (
        (3, 'valid'), (3, 'test'), (6, 'valid'))]
    write(*old)
    assert sweep.resume_checkpoint(str(run)) == str(run / 'iter_3.pth')

    # a line cut off by a kill is dropped before resuming
    write(_val(3, 'valid'), _val(3, 'test'), tail='{"mode": "va')
    assert sweep.repair_results(str(run))
    assert [r['split'] for r in read_results(str(results))] == ['valid',
                                                               'test']
    assert results.read_text().endswith('\n')
    assert not sweep.repair_results(str(run))


#: Iterations of the runs of the SIGTERM test: long enough (ten
#: evaluations) that the kill after the first evaluation lands before the
#: end however fast the machine is.
ITERS = 30
EVALS = list(range(3, ITERS + 1, 3))


def _grid(root, data, max_iters=6):
    return ['--configs', CONFIG, '--seeds', '0', '1', '--options',
            'optim_wrapper.optimizer.lr=0.01', '--work-dir', str(root),
            '--jobs', '2', '--kill-timeout', '20', '--cfg-options',
            *tiny_options(data, max_iters)]


def _run_dirs(root):
    return sorted(glob.glob(os.path.join(str(root), '*', '*', 'seed*')))


def _evals(run_dir):
    path = os.path.join(run_dir, 'results.jsonl')
    return _evaluations(read_results(path)) if os.path.isfile(path) else {}


def _launches(run_dir):
    with open(os.path.join(run_dir, 'stdout.log')) as f:
        log = f.read()
    return log.count(' launch: '), log.count('== sweep exit 0')


def test_sweep_skips_finished_runs_and_survives_sigterm(
        tmp_path, tiny_synth, capsys):
    # an uninterrupted sweep (in this process)
    ref = tmp_path / 'ref'
    code, out, _ = _run(capsys, *_grid(ref, tiny_synth, ITERS))
    assert code == 0, out
    assert 'Sweep of 2 runs: 2 done, 0 failed' in out
    assert (f'python tools/analysis_tools/collect_results.py {ref} '
            in out)
    ref_runs = _run_dirs(ref)
    assert [os.path.relpath(r, ref) for r in ref_runs] == [
        'vanilla_synthdigits_1pct/lr-0.01/seed0',
        'vanilla_synthdigits_1pct/lr-0.01/seed1'
    ]
    for run in ref_runs:
        assert os.path.isfile(os.path.join(run, 'sweep_done.json'))
        assert list(_evals(run)) == EVALS

    # run again: everything is skipped, nothing is trained
    logs = {r: open(os.path.join(r, 'stdout.log')).read() for r in ref_runs}
    code, out, _ = _run(capsys, *_grid(ref, tiny_synth, ITERS), '--dry-run')
    assert 'Plan: 2 done.' in out
    code, out, _ = _run(capsys, *_grid(ref, tiny_synth, ITERS))
    assert code == 0 and '2 skipped (finished before)' in out
    assert logs == {r: open(os.path.join(r, 'stdout.log')).read()
                    for r in ref_runs}
    # other fixed options on the same dirs are refused
    code, _, err = _run(capsys, *_grid(ref, tiny_synth, ITERS),
                        'default_hooks.logger.interval=2')
    assert code == 1 and 'belongs to a sweep with other settings' in err

    # a sweep killed with SIGTERM once a run validated its first checkpoint
    killed = tmp_path / 'killed'
    cmd = [sys.executable, os.path.join(REPO, 'tools', 'sweep.py'),
           *_grid(killed, tiny_synth, ITERS)]
    env = dict(os.environ, PYTHONPATH=REPO)
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 120
    while not any(3 in sweep.complete_validations(
            list(read_results(path))) for path in glob.glob(
                str(killed / '*' / '*' / '*' / 'results.jsonl'))):
        assert proc.poll() is None and time.time() < deadline, \
            proc.communicate()[0]
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    out = proc.communicate(timeout=60)[0]
    assert proc.returncode == 128 + signal.SIGTERM, out
    assert 'SIGTERM: stopping 2 running run(s)' in out
    runs = _run_dirs(killed)
    assert len(runs) == 2
    for run in runs:
        assert not sweep.is_busy(run)  # no training outlived the sweep
        assert not os.path.exists(os.path.join(run, 'sweep_done.json'))
        evals = list(_evals(run))  # stopped before the end
        assert evals == EVALS[:len(evals)] and len(evals) < len(EVALS)

    # restart: both runs finish, each exactly once, with the results of
    # the uninterrupted sweep
    code, out, _ = _run(capsys, *_grid(killed, tiny_synth, ITERS))
    assert code == 0, out
    assert 'Sweep of 2 runs: 2 done, 0 failed, 0 skipped' in out
    assert '[resume from iter_' in out
    for run, ref_run in zip(runs, ref_runs):
        assert _launches(run) == (2, 1)
        assert os.path.isfile(os.path.join(run, 'sweep_done.json'))
        assert _evals(run) == _evals(ref_run)
    code, out, _ = _run(capsys, *_grid(killed, tiny_synth, ITERS))
    assert '2 skipped (finished before)' in out
    assert all(_launches(run) == (2, 1) for run in runs)

"""Run a grid of configs x seeds x ``--cfg-options`` values.

``python tools/sweep.py --configs CONFIG... [--seeds 0 1 2]
[--options KEY=V1,V2 ...] [--cfg-options KEY=V ...] --work-dir DIR
[--jobs N] [--gpus ID...] [--launcher local|pytorch|slurm]
[--gpus-per-run N] [--partition P] [--submit] [--dry-run]``

Each run gets its own work dir, ``DIR/<config>/<option values>/seed<k>``
(``DIR/<config>/seed<k>`` without ``--options``). Every ``--options`` is an
axis of the grid: ``model.tau=1,2,4`` runs each config with the three
values (commas inside brackets or quotes do not split: ``a=[1,2],[3,4]``).
``--cfg-options`` apply to every run.

Launchers:

- ``local`` (default): a queue over ``--jobs`` parallel slots, each running
  ``tools/train.py``. With ``--gpus``, slot ``i`` sees
  ``CUDA_VISIBLE_DEVICES=<gpus[i % len(gpus)]>``; on the CPU the cores are
  split between the slots (``OMP_NUM_THREADS``).
- ``pytorch``: ``tools/dist_train.sh`` per run with ``--gpus-per-run``
  processes; the GPUs are split into groups of that size, one slot each
  (each slot its own ``PORT``).
- ``slurm``: prints one ``tools/slurm_train.sh`` command per run (nothing
  is run, srun need not exist); ``--submit`` runs them through the queue
  (``--jobs`` at a time, all by default).

State lives in the run dirs only, so a sweep can be killed and restarted:

- a run is finished when ``sweep_done.json`` exists (written atomically when
  its training exited with status 0) or its ``results.jsonl`` holds every
  split's validation at the recorded ``max_iters``; finished runs are
  skipped;
- an unfinished run with a ``last_checkpoint`` is resumed (``--resume``)
  from its newest checkpoint that is not newer than its last complete
  validation: the train loop continues after the checkpoint's iteration,
  so resuming from a checkpoint whose validation was cut off would lose
  that validation (and the best-checkpoint choice made there);
- a ``results.jsonl`` whose last line was cut off is repaired first;
- SIGTERM / SIGINT (Ctrl-C) stop the sweep: every running training is sent
  SIGTERM (its whole process group, then SIGKILL after ``--kill-timeout``
  seconds) and no marker is written for it;
- each running run holds a lock (``.sweep.lock``) that its training process
  inherits, so a second sweep over the same dir (or a restart while an
  orphaned training still runs) reports the run as busy instead of running
  it twice.

At the end the sweep prints how many runs were done, failed, skipped (already
finished) and busy, and the ``collect_results.py`` command for its work dir.
"""
import argparse
import fcntl
import itertools
import json
import os
import os.path as osp
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)

from debiascls.utils.fileio import atomic_write_text  # noqa: E402
from debiascls.engine.results import (RESULTS_FILE,  # noqa: E402
                                      complete_validations, read_results)
from debiascls.evaluation.results_table import SWEEP_RUN_FILE  # noqa: E402

DONE_FILE = 'sweep_done.json'
LOCK_FILE = '.sweep.lock'
LOG_FILE = 'stdout.log'
_CKPT_RE = re.compile(r'^iter_(\d+)\.pth$')


class SweepError(ValueError):
    """A sweep that cannot be planned (the message names the option or dir
    and the fix)."""


# ---------------------------------------------------------------------- #
# The grid
# ---------------------------------------------------------------------- #
def split_values(text: str) -> List[str]:
    """Split ``'1,2,[3,4]'`` at the commas outside brackets and quotes."""
    values, depth, quote, current = [], 0, None, ''
    for char in text:
        if quote:
            quote = None if char == quote else quote
        elif char in '\'"':
            quote = char
        elif char in '([{':
            depth += 1
        elif char in ')]}':
            depth -= 1
        elif char == ',' and depth == 0:
            values.append(current)
            current = ''
            continue
        current += char
    values.append(current)
    return values


def parse_axes(options: Sequence[str]) -> List[Tuple[str, List[str]]]:
    """``['model.tau=1,2']`` -> ``[('model.tau', ['1', '2'])]``."""
    axes = []
    for option in options:
        key, sep, values = option.partition('=')
        if not sep or not key or not values:
            raise SweepError(f'--options "{option}" is not KEY=V1,V2,...; '
                             'e.g. --options model.tau=1,2,4')
        if key in [k for k, _ in axes]:
            raise SweepError(f'--options gives "{key}" twice; list all its '
                             'values in one KEY=V1,V2,...')
        parsed = split_values(values)
        if any(v == '' for v in parsed) or len(set(parsed)) != len(parsed):
            raise SweepError(f'--options "{option}": empty or repeated '
                             'value.')
        axes.append((key, parsed))
    return axes


def _safe(text: str) -> str:
    return re.sub(r'[^A-Za-z0-9._+-]+', '-', text).strip('-') or 'x'


@dataclass
class RunSpec:
    config: str  # absolute path
    seed: int
    options: Dict[str, str]
    work_dir: str
    root: str
    fixed: List[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return osp.splitext(osp.basename(self.config))[0]

    @property
    def job_name(self) -> str:
        """``<config>_<option values>_seed<k>`` (slurm's job name)."""
        return '_'.join(
            _safe(p) for p in osp.relpath(self.work_dir, self.root).split(
                os.sep))

    def cfg_options(self) -> List[str]:
        """The fixed options, then the grid's (which win)."""
        return list(self.fixed) + [f'{k}={v}' for k, v in self.options.items()]

    def identity(self) -> dict:
        """What makes a run dir this run (compared on restart, except the
        config's path, which may move with the repository)."""
        return dict(config_name=self.name, config=self.config, seed=self.seed,
                    options=dict(self.options), cfg_options=list(self.fixed))


def has_key(cfg, key: str) -> bool:
    """Whether the dotted ``key`` (list items by index, as in
    ``--cfg-options``) is set in ``cfg``."""
    node = cfg
    for part in key.split('.'):
        if isinstance(node, (list, tuple)) and part.isdigit():
            if int(part) >= len(node):
                return False
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return False
    return True


def build_grid(configs: Sequence[str], seeds: Sequence[int],
               options: Sequence[str], fixed: Sequence[str],
               root: str) -> Tuple[List[RunSpec], List[str]]:
    """Every (config, option values, seed), in that order, and notes.

    An axis whose key a config does not set (``model.tau`` of LfF) is not
    swept for that config: its runs leave the key alone, and a note says
    so.
    """
    from mmengine.config import Config
    axes = parse_axes(options)
    missing = [c for c in configs if not osp.isfile(c)]
    if missing:
        raise SweepError(f'Config file(s) {", ".join(missing)} do not exist; '
                         'pass paths like configs/methods/'
                         'ie_synthdigits_1pct.py.')
    names = [osp.splitext(osp.basename(c))[0] for c in configs]
    if len(set(names)) != len(names):
        raise SweepError(f'--configs has two configs named alike ({names}); '
                         'their work dirs would collide. Run them in two '
                         'sweeps with different --work-dir.')
    if len(set(seeds)) != len(seeds):
        raise SweepError(f'--seeds repeats a seed: {list(seeds)}.')
    short = {}
    for key, _ in axes:
        tail = key.rsplit('.', 1)[-1]
        clash = [k for k, _ in axes if k.rsplit('.', 1)[-1] == tail]
        short[key] = tail if len(clash) == 1 else key
    runs, seen, notes = [], {}, []
    for config, name in zip(configs, names):
        cfg = Config.fromfile(config).to_dict() if axes else {}
        own = [(k, v) for k, v in axes if has_key(cfg, k)]
        for key in [k for k, _ in axes if not has_key(cfg, k)]:
            notes.append(f'{name} does not set {key}; its runs do not '
                             'sweep it (set it in the config to sweep it).')
        for values in itertools.product(*[v for _, v in own]):
            chosen = {k: v for (k, _), v in zip(own, values)}
            label = '_'.join(f'{_safe(short[k])}-{_safe(v)}'
                             for k, v in chosen.items())
            for seed in seeds:
                parts = [root, name] + ([label] if label else []) + [
                    f'seed{seed}']
                spec = RunSpec(osp.abspath(config), int(seed), chosen,
                               osp.join(*parts), root, list(fixed))
                if spec.work_dir in seen:
                    raise SweepError(
                        f'Option values {seen[spec.work_dir]} and {chosen} '
                        f'both map to the work dir "{spec.work_dir}"; use '
                        'values that differ in letters or digits.')
                seen[spec.work_dir] = chosen
                runs.append(spec)
    return runs, notes


# ---------------------------------------------------------------------- #
# The state of one run dir
# ---------------------------------------------------------------------- #
def _records(work_dir: str) -> List[dict]:
    path = osp.join(work_dir, RESULTS_FILE)
    return list(read_results(path)) if osp.isfile(path) else []


def finished_in_results(records: Sequence[dict]) -> bool:
    """Whether every split was validated at the run's recorded budget."""
    budgets = [r['max_iters'] for r in records
               if r.get('mode') == 'val' and r.get('max_iters') is not None]
    return bool(budgets) and int(budgets[-1]) in complete_validations(records)


def is_finished(work_dir: str) -> bool:
    return (osp.isfile(osp.join(work_dir, DONE_FILE))
            or finished_in_results(_records(work_dir)))


def resume_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint to resume from: the newest ``iter_N.pth`` with N not
    past the last complete validation; None to start from scratch (no
    ``last_checkpoint``, or no checkpoint old enough)."""
    if not osp.isfile(osp.join(work_dir, 'last_checkpoint')):
        return None
    checkpoints = {}
    for name in os.listdir(work_dir):
        match = _CKPT_RE.match(name)
        if match:
            checkpoints[int(match.group(1))] = osp.join(work_dir, name)
    validated = complete_validations(_records(work_dir))
    limit = validated[-1] if validated else 0
    usable = [n for n in checkpoints if n <= limit]
    return checkpoints[max(usable)] if usable else None


def repair_results(work_dir: str) -> bool:
    """Drop a cut-off last line of ``results.jsonl`` (a training killed
    mid-write); True if the file was rewritten."""
    path = osp.join(work_dir, RESULTS_FILE)
    if not osp.isfile(path):
        return False
    with open(path, encoding='utf-8') as f:
        text = f.read()
    lines = text.splitlines(keepends=True)
    if not lines:
        return False
    last = lines[-1]
    try:
        json.loads(last)
        complete = last.endswith('\n')
    except json.JSONDecodeError:
        complete = False
    if complete:
        return False
    atomic_write_text(''.join(lines[:-1]), path)
    return True


class RunLock:
    """An exclusive ``flock`` on ``<work_dir>/.sweep.lock``; the training
    process inherits the descriptor, so the lock is held while it runs."""

    def __init__(self, work_dir: str) -> None:
        self.path = osp.join(work_dir, LOCK_FILE)
        self.fd: Optional[int] = None

    def acquire(self) -> bool:
        os.makedirs(osp.dirname(self.path), exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self.fd = fd
        return True

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def is_busy(work_dir: str) -> bool:
    if not osp.isfile(osp.join(work_dir, LOCK_FILE)):
        return False
    lock = RunLock(work_dir)
    if lock.acquire():
        lock.release()
        return False
    return True


def check_identity(spec: RunSpec) -> None:
    """Refuse a run dir that an earlier sweep used for other settings (e.g.
    other ``--cfg-options``, which are not part of the dir name)."""
    path = osp.join(spec.work_dir, SWEEP_RUN_FILE)
    if not osp.isfile(path):
        return
    with open(path, encoding='utf-8') as f:
        try:
            recorded = json.load(f)
        except json.JSONDecodeError:
            return  # rewritten atomically below
    want = spec.identity()
    diff = {k: (recorded.get(k), v) for k, v in want.items()
            if k != 'config' and recorded.get(k) != v}
    if diff:
        detail = '; '.join(f'{k}: {old!r} there, {new!r} now'
                           for k, (old, new) in diff.items())
        raise SweepError(
            f'Run dir "{spec.work_dir}" belongs to a sweep with other '
            f'settings ({detail}; see {path}). Use another --work-dir, or '
            'delete that dir to rerun it.')


# ---------------------------------------------------------------------- #
# Commands and slots
# ---------------------------------------------------------------------- #
def train_command(spec: RunSpec, args: argparse.Namespace,
                  checkpoint: Optional[str]) -> List[str]:
    extra = ['--seed', str(spec.seed)]
    if checkpoint is not None:
        extra += ['--resume', checkpoint]
    extra += list(args.train_args)
    options = spec.cfg_options()
    if options:
        extra += ['--cfg-options', *options]
    if args.launcher == 'local':
        return [sys.executable, osp.join(REPO, 'tools', 'train.py'),
                spec.config, '--work-dir', spec.work_dir, *extra]
    if args.launcher == 'pytorch':
        return ['bash', osp.join(REPO, 'tools', 'dist_train.sh'), spec.config,
                str(args.gpus_per_run), '--work-dir', spec.work_dir, *extra]
    return ['bash', osp.join(REPO, 'tools', 'slurm_train.sh'), args.partition,
            spec.job_name, spec.config, spec.work_dir, *extra]


def slot_envs(args: argparse.Namespace, num_runs: int) -> List[Dict[str, str]]:
    """The environment of each parallel slot."""
    cores = len(os.sched_getaffinity(0)) if hasattr(
        os, 'sched_getaffinity') else (os.cpu_count() or 1)
    if args.launcher == 'slurm':
        gpus = str(args.gpus_per_run)
        env = dict(GPUS=gpus, GPUS_PER_NODE=str(min(args.gpus_per_run, 8)))
        return [dict(env) for _ in range(args.jobs or max(num_runs, 1))]
    if args.launcher == 'pytorch':
        if args.gpus:
            groups = [args.gpus[i:i + args.gpus_per_run]
                      for i in range(0, len(args.gpus), args.gpus_per_run)]
            if len(groups[-1]) < args.gpus_per_run:
                raise SweepError(
                    f'--gpus {" ".join(args.gpus)} cannot be split into '
                    f'groups of --gpus-per-run {args.gpus_per_run}; give a '
                    'multiple of it.')
            slots = [dict(CUDA_VISIBLE_DEVICES=','.join(g)) for g in groups]
            if args.jobs:
                slots = slots[:args.jobs]
        else:
            slots = [{} for _ in range(args.jobs or 1)]
        threads = max(1, cores // (len(slots) * args.gpus_per_run))
        for i, env in enumerate(slots):
            env.update(PORT=str(args.port + i), OMP_NUM_THREADS=str(threads),
                       MKL_NUM_THREADS=str(threads))
        return slots
    jobs = args.jobs or (len(args.gpus) if args.gpus else 1)
    threads = str(max(1, cores // jobs))
    slots = [dict(OMP_NUM_THREADS=threads, MKL_NUM_THREADS=threads)
             for _ in range(jobs)]
    for i, env in enumerate(slots):
        if args.gpus:
            env['CUDA_VISIBLE_DEVICES'] = args.gpus[i % len(args.gpus)]
    return slots


def status_of(spec: RunSpec) -> Tuple[str, Optional[str]]:
    """``(status, checkpoint)``: done, busy, resume (from checkpoint),
    restart (has a last_checkpoint but none old enough) or new."""
    if is_finished(spec.work_dir):
        return 'done', None
    if is_busy(spec.work_dir):
        return 'busy', None
    checkpoint = resume_checkpoint(spec.work_dir)
    if checkpoint is not None:
        return 'resume', checkpoint
    if osp.isfile(osp.join(spec.work_dir, 'last_checkpoint')):
        return 'restart', None
    return 'new', None


def _shell(cmd: Sequence[str], env: Dict[str, str]) -> str:
    prefix = ' '.join(f'{k}={shlex.quote(v)}' for k, v in env.items())
    return (prefix + ' ' if prefix else '') + ' '.join(
        shlex.quote(c) for c in cmd)


def collect_command(args: argparse.Namespace) -> str:
    return ('python tools/analysis_tools/collect_results.py '
            f'{shlex.quote(args.work_dir)} --rule last --metric '
            'conflicting_acc acc')


# ---------------------------------------------------------------------- #
# Running
# ---------------------------------------------------------------------- #
class Stop(Exception):
    pass


@dataclass
class Running:
    spec: RunSpec
    proc: subprocess.Popen
    lock: RunLock
    slot: int
    start: float
    log: object


def _child_setup() -> None:
    # The training dies with the sweep even if the sweep is SIGKILLed.
    if sys.platform.startswith('linux'):
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)


class Sweep:

    def __init__(self, runs: List[RunSpec], args: argparse.Namespace) -> None:
        self.runs = runs
        self.args = args
        self.slots = slot_envs(args, len(runs))
        self.result: Dict[str, List[str]] = dict(
            done=[], failed=[], skipped=[], busy=[])
        self.stop_signal: Optional[int] = None

    def _on_signal(self, signum, frame) -> None:
        self.stop_signal = signum

    def _launch(self, spec: RunSpec, slot: int) -> Optional[Running]:
        lock = RunLock(spec.work_dir)
        if not lock.acquire():
            self.result['busy'].append(spec.work_dir)
            print(f'[busy] {spec.work_dir}: another process holds '
                  f'{LOCK_FILE}', flush=True)
            return None
        try:
            if is_finished(spec.work_dir):
                lock.release()
                self.result['skipped'].append(spec.work_dir)
                print(f'[skip] {spec.work_dir}: finished', flush=True)
                return None
            check_identity(spec)
            if repair_results(spec.work_dir):
                print(f'[repair] {spec.work_dir}/{RESULTS_FILE}: dropped a '
                      'cut-off last line', flush=True)
            checkpoint = resume_checkpoint(spec.work_dir)
            atomic_write_text(
                json.dumps(dict(spec.identity(), launcher=self.args.launcher),
                           indent=1), osp.join(spec.work_dir, SWEEP_RUN_FILE))
            cmd = train_command(spec, self.args, checkpoint)
            env = dict(os.environ, **self.slots[slot])
            env['PYTHONPATH'] = os.pathsep.join(
                p for p in (REPO, os.environ.get('PYTHONPATH')) if p)
            log = open(osp.join(spec.work_dir, LOG_FILE), 'a')
            log.write(f'== sweep {time.strftime("%Y-%m-%dT%H:%M:%S")} '
                      f'launch: {_shell(cmd, self.slots[slot])}\n')
            log.flush()
            proc = subprocess.Popen(
                cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
                pass_fds=(lock.fd, ), preexec_fn=_child_setup)
        except BaseException:
            lock.release()
            raise
        how = (f'resume from {osp.basename(checkpoint)}'
               if checkpoint else 'start')
        print(f'[{how}] {spec.work_dir} (slot {slot}, pid {proc.pid})',
              flush=True)
        return Running(spec, proc, lock, slot, time.time(), log)

    def _finish(self, run: Running, code: int) -> None:
        wall = time.time() - run.start
        run.log.write(f'== sweep exit {code} after {wall:.0f} s\n')
        run.log.close()
        if code == 0:
            atomic_write_text(
                json.dumps(dict(run.spec.identity(), wall_s=round(wall, 1),
                                finished=time.strftime('%Y-%m-%dT%H:%M:%S')),
                           indent=1), osp.join(run.spec.work_dir, DONE_FILE))
            self.result['done'].append(run.spec.work_dir)
            print(f'[done] {run.spec.work_dir} ({wall:.0f} s)', flush=True)
        else:
            self.result['failed'].append(run.spec.work_dir)
            print(f'[failed] {run.spec.work_dir}: exit status {code}; see '
                  f'{osp.join(run.spec.work_dir, LOG_FILE)}', flush=True)
        run.lock.release()

    def _kill(self, running: List[Running]) -> None:
        for run in running:
            try:
                os.killpg(run.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.time() + self.args.kill_timeout
        for run in running:
            try:
                run.proc.wait(max(0.0, deadline - time.time()))
            except subprocess.TimeoutExpired:
                pass
            try:  # the group may hold workers after the leader exited
                os.killpg(run.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            run.proc.wait()
            run.log.write('== sweep stopped this run (it resumes on '
                          'restart)\n')
            run.log.close()
            run.lock.release()
            print(f'[stopped] {run.spec.work_dir}', flush=True)

    def run(self) -> int:
        queue = list(self.runs)
        running: List[Running] = []
        free = list(range(len(self.slots)))
        old = {s: signal.signal(s, self._on_signal)
               for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
        try:
            while queue or running:
                if self.stop_signal is not None:
                    raise Stop()
                while queue and free and self.stop_signal is None:
                    spec = queue.pop(0)
                    slot = free.pop(0)
                    started = self._launch(spec, slot)
                    if started is None:
                        free.insert(0, slot)
                    else:
                        running.append(started)
                for run in list(running):
                    code = run.proc.poll()
                    if code is not None:
                        running.remove(run)
                        free.append(run.slot)
                        self._finish(run, code)
                time.sleep(0.2)
        except (Stop, KeyboardInterrupt):
            name = signal.Signals(self.stop_signal or signal.SIGINT).name
            print(f'\n{name}: stopping {len(running)} running run(s); '
                  'restart the same command to continue.', flush=True)
            self._kill(running)
            self.summary(stopped=len(running), pending=len(queue))
            return 128 + int(self.stop_signal or signal.SIGINT)
        except BaseException:
            self._kill(running)
            raise
        finally:
            for s, handler in old.items():
                signal.signal(s, handler)
        self.summary()
        return 1 if self.result['failed'] else 0

    def summary(self, stopped: int = 0, pending: int = 0) -> None:
        r = self.result
        parts = [f'{len(r["done"])} done', f'{len(r["failed"])} failed',
                 f'{len(r["skipped"])} skipped (finished before)',
                 f'{len(r["busy"])} busy']
        if stopped or pending:
            parts += [f'{stopped} stopped', f'{pending} not started']
        print(f'\nSweep of {len(self.runs)} runs: ' + ', '.join(parts) + '.')
        for work_dir in r['failed']:
            print(f'  failed: {work_dir} (log: '
                  f'{osp.join(work_dir, LOG_FILE)})')
        for work_dir in r['busy']:
            print(f'  busy: {work_dir}')
        print(f'Collect the results:\n  {collect_command(self.args)}')


# ---------------------------------------------------------------------- #
# Command line
# ---------------------------------------------------------------------- #
def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog='\n'.join(__doc__.split('\n')[2:]))
    parser.add_argument('--configs', nargs='+', required=True)
    parser.add_argument('--seeds', nargs='+', type=int, default=[0])
    parser.add_argument('--options', nargs='+', default=[],
                        metavar='KEY=V1,V2',
                        help='grid axes: each KEY takes every listed value')
    parser.add_argument('--cfg-options', nargs='+', default=[],
                        metavar='KEY=V', help='options of every run')
    parser.add_argument('--work-dir', required=True,
                        help='root of the run dirs')
    parser.add_argument('--jobs', type=int,
                        help='parallel runs (default: one per GPU or GPU '
                        'group; 1 on the CPU; slurm --submit: all)')
    parser.add_argument('--gpus', nargs='+', default=[],
                        help='GPU ids to spread the runs over')
    parser.add_argument('--launcher', default='local',
                        choices=['local', 'pytorch', 'slurm'])
    parser.add_argument('--gpus-per-run', type=int, default=1,
                        help='processes (GPUs) per run (pytorch, slurm)')
    parser.add_argument('--port', type=int, default=29500,
                        help='first master port (pytorch: one per slot)')
    parser.add_argument('--partition', help='slurm partition')
    parser.add_argument('--submit', action='store_true',
                        help='slurm: run the commands (srun) instead of '
                        'printing them')
    parser.add_argument('--train-args', nargs=argparse.REMAINDER, default=[],
                        help='passed on to tools/train.py (last option)')
    parser.add_argument('--kill-timeout', type=float, default=30.0,
                        help='seconds between SIGTERM and SIGKILL of a run '
                        'when the sweep is stopped')
    parser.add_argument('--dry-run', action='store_true',
                        help='print the plan and exit')
    args = parser.parse_args(argv)
    if args.jobs is not None and args.jobs < 1:
        parser.error('--jobs must be at least 1')
    if args.gpus_per_run < 1:
        parser.error('--gpus-per-run must be at least 1')
    if args.launcher == 'slurm' and not args.partition:
        parser.error('--launcher slurm needs --partition P')
    if args.launcher != 'slurm' and (args.partition or args.submit):
        parser.error('--partition and --submit are for --launcher slurm')
    return args


def print_plan(runs: List[RunSpec], args: argparse.Namespace,
               slots: List[Dict[str, str]]) -> None:
    print(f'Sweep of {len(runs)} runs under {args.work_dir} '
          f'({args.launcher} launcher, {len(slots)} parallel slot(s)):')
    for i, env in enumerate(slots):
        print(f'  slot {i}: ' + (' '.join(f'{k}={v}' for k, v in env.items())
                                 or '(inherited environment)'))
    counts: Dict[str, int] = {}
    for spec in runs:
        status, checkpoint = status_of(spec)
        counts[status] = counts.get(status, 0) + 1
        what = (f'resume from {osp.basename(checkpoint)}'
                if status == 'resume' else status)
        print(f'[{what}] {spec.work_dir}')
        if status not in ('done', 'busy'):
            print(f'    {_shell(train_command(spec, args, checkpoint), {})}')
    print('Plan: ' + ', '.join(f'{n} {s}' for s, n in sorted(counts.items()))
          + '.')


def print_slurm(runs: List[RunSpec], args: argparse.Namespace) -> None:
    env = slot_envs(args, len(runs))[0]
    todo = 0
    for spec in runs:
        status, checkpoint = status_of(spec)
        if status in ('done', 'busy'):
            print(f'# {status}: {spec.work_dir}')
            continue
        todo += 1
        print(_shell(train_command(spec, args, checkpoint), env))
    print(f'# {todo} of {len(runs)} runs to submit; a run is finished when '
          f'its results.jsonl has the validation at max_iters. Then:\n# '
          f'{collect_command(args)}')


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        runs, notes = build_grid(args.configs, args.seeds, args.options,
                                 args.cfg_options, args.work_dir)
        for note in notes:
            print(f'note: {note}')
        slots = slot_envs(args, len(runs))
        for spec in runs:
            check_identity(spec)
        if args.dry_run:
            print_plan(runs, args, slots)
            return 0
        if args.launcher == 'slurm' and not args.submit:
            print_slurm(runs, args)
            return 0
        if args.launcher == 'slurm' and shutil.which('srun') is None:
            raise SweepError('--submit runs tools/slurm_train.sh, which '
                             'needs srun, and srun is not on PATH; run '
                             'without --submit to print the commands.')
        return Sweep(runs, args).run()
    except SweepError as e:
        print(f'error: {e}', file=sys.stderr)
        return 1


if __name__ == '__main__':
    sys.exit(main())

"""Threads and loader workers chosen from the cores of a process."""
import pytest
import torch
from mmengine.config import Config

from debiascls.engine.runner.config_preparation import plan_loader_workers
from debiascls.utils import ConfigError
from debiascls.utils import threads


def test_cores_are_shared_by_the_local_processes(monkeypatch):
    monkeypatch.setattr(threads, 'available_cores', lambda: 16)
    monkeypatch.delenv('LOCAL_WORLD_SIZE', raising=False)
    assert threads.cores_per_process() == 16
    monkeypatch.setenv('LOCAL_WORLD_SIZE', '4')
    assert threads.cores_per_process() == 4
    monkeypatch.setenv('LOCAL_WORLD_SIZE', '32')
    assert threads.cores_per_process() == 1


@pytest.mark.parametrize('cores, workers, torch_threads', [
    (1, 0, 1), (2, 1, 1), (4, 2, 2), (16, 8, 8), (64, 8, 56)])
def test_auto_plan(cores, workers, torch_threads):
    assert threads.resolve_workers('auto', cores) == workers
    assert threads.auto_threads(workers, cores) == torch_threads
    # without workers (an in-memory loader) torch gets every core
    assert threads.auto_threads(0, cores) == cores


def test_explicit_settings(monkeypatch):
    assert threads.resolve_workers(3) == 3
    assert threads.resolve_workers(None) == 0
    for bad in (-1, 1.5, True, 'two'):
        with pytest.raises(ValueError, match='num_workers'):
            threads.resolve_workers(bad)
    before = torch.get_num_threads()
    try:
        monkeypatch.delenv('OMP_NUM_THREADS', raising=False)
        assert threads.apply_num_threads(1) == 1
        assert torch.get_num_threads() == 1
        assert threads.apply_num_threads(None) is None
        # an explicit OMP_NUM_THREADS wins
        monkeypatch.setenv('OMP_NUM_THREADS', '2')
        assert threads.apply_num_threads(1) is None
        with pytest.raises(ValueError, match='num_threads'):
            monkeypatch.delenv('OMP_NUM_THREADS')
            threads.apply_num_threads(0)
    finally:
        torch.set_num_threads(before)


def _cfg(**env):
    loader = dict(num_workers='auto', persistent_workers=True)
    return Config(dict(
        env_cfg=env, train_dataloader=dict(loader),
        val_dataloader=dict(loader), test_dataloader=dict(loader),
        val_cfg=dict(extra_splits=dict(biased=dict(loader)))))


def test_evaluation_workers_do_not_stay_alive(monkeypatch):
    monkeypatch.setattr(threads, 'available_cores', lambda: 8)
    monkeypatch.delenv('LOCAL_WORLD_SIZE', raising=False)
    cfg = _cfg()
    plan_loader_workers(cfg)
    assert cfg.train_dataloader.num_workers == 4
    assert cfg.train_dataloader.persistent_workers
    for loader in (cfg.val_dataloader, cfg.test_dataloader,
                   cfg.val_cfg.extra_splits.biased):
        assert loader.num_workers == 4 and not loader.persistent_workers
    kept = _cfg(persistent_eval_workers=True)
    plan_loader_workers(kept)
    assert kept.val_dataloader.persistent_workers
    # no workers: nothing to keep alive (torch refuses the combination)
    monkeypatch.setattr(threads, 'available_cores', lambda: 1)
    single = _cfg(persistent_eval_workers=True)
    plan_loader_workers(single)
    assert single.train_dataloader.num_workers == 0
    assert not single.train_dataloader.persistent_workers


def test_a_bad_worker_count_names_the_loader():
    cfg = _cfg()
    cfg.test_dataloader.num_workers = -2
    with pytest.raises(ConfigError, match='test_dataloader: num_workers=-2'):
        plan_loader_workers(cfg)

"""The runner formats its config text once per content."""
from unittest import mock

from mmengine.config import Config

from debiascls.engine.runner import DebiasRunner
from debiascls.engine.runner.text_cached_config import TextCachedConfig


def _config() -> Config:
    return Config(dict(model=dict(type='Vanilla', lr=0.1), seed=3))


def test_text_is_formatted_once_and_again_after_a_change():
    cfg = TextCachedConfig.wrap(_config())
    with mock.patch.object(Config, 'pretty_text',
                           new_callable=mock.PropertyMock) as text:
        text.side_effect = ['first', 'second']
        assert cfg.pretty_text == 'first'
        assert cfg.pretty_text == 'first'
        assert text.call_count == 1
        cfg.model.lr = 0.2  # a changed config never gets the stale text
        assert cfg.pretty_text == 'second'
        assert text.call_count == 2


def test_text_equals_mmengine_text_and_contents_are_shared():
    plain = _config()
    cfg = TextCachedConfig.wrap(plain)
    assert cfg.pretty_text == plain.pretty_text
    cfg.seed = 4
    assert plain.seed == 4  # the same contents, not a copy
    assert TextCachedConfig.wrap(cfg) is cfg


def test_runner_cfg_is_wrapped():
    runner = DebiasRunner.__new__(DebiasRunner)
    runner.cfg = _config()
    assert isinstance(runner.cfg, TextCachedConfig)
    assert runner.cfg.seed == 3

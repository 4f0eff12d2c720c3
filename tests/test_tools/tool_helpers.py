"""Shared helpers of the tool tests: import a tools/ script as a module, and
the tiny-run helpers of tests/test_integration."""
import importlib.util
import os.path as osp
import sys

HERE = osp.dirname(osp.abspath(__file__))
REPO = osp.dirname(osp.dirname(HERE))
sys.path.insert(0, osp.join(osp.dirname(HERE), 'test_integration'))

from tiny_run import CONFIG, run_tool, tiny_options  # noqa: E402,F401


def load_script(relpath: str, name: str):
    """Import the script ``<repo>/<relpath>`` as a module (its ``main``
    runs in-process)."""
    spec = importlib.util.spec_from_file_location(name,
                                                  osp.join(REPO, relpath))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_tool(relpath: str, name: str):
    """Import ``tools/<relpath>`` as a module."""
    return load_script(osp.join('tools', relpath), name)

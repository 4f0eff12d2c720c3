"""The package's layers: every import of a debiascls module (at module
level or inside a function) goes down the layer order, no import cycle,
no private name imported from another module, and the bottom layer
imports alone."""
import ast
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Dict, List, Set

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / 'debiascls'

#: Layer of each sub-package, bottom first: a module may import its own
#: sub-package and lower layers only (``datasets``, ``models`` and
#: ``visualization`` do not import each other).
LAYERS = {
    'version': 0, 'utils': 0,
    'registry': 1,
    'datasets': 2, 'models': 2, 'visualization': 2,
    'engine': 3,
    'evaluation': 4,
    'apis': 5,
}


def _modules() -> Dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob('*.py'):
        parts = path.relative_to(REPO).with_suffix('').parts
        if parts[-1] == '__init__':
            parts = parts[:-1]
        found['.'.join(parts)] = path
    return found


def _imports(name: str, path: Path, modules) -> List[tuple]:
    """``(target module, imported names)`` of every import in the file,
    function bodies included, relative imports resolved."""
    is_package = path.name == '__init__.py'
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding='utf-8'))):
        if isinstance(node, ast.Import):
            out += [(a.name, []) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split('.')
                base = base if is_package else base[:-1]
                base = base[:len(base) - node.level + 1]
                target = '.'.join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ''
            names = [a.name for a in node.names]
            out.append((target, names))
            # ``from pkg import submodule`` imports the submodule
            out += [(f'{target}.{n}', []) for n in names
                    if f'{target}.{n}' in modules]
    return [(t, n) for t, n in out if t in modules and t != name]


def _graph():
    modules = _modules()
    return modules, {m: _imports(m, p, modules) for m, p in modules.items()}


def _layer(module: str) -> str:
    parts = module.split('.')
    return parts[1] if len(parts) > 1 else ''


def test_every_import_goes_down_the_layers():
    _, graph = _graph()
    wrong = []
    for module, imports in graph.items():
        here = _layer(module)
        if not here:
            continue  # the package's own __init__
        assert here in LAYERS, f'{module}: add its layer to LAYERS'
        for target, _ in imports:
            there = _layer(target)
            if there and there != here and LAYERS[there] >= LAYERS[here]:
                wrong.append(f'{module} -> {target}')
    assert not wrong, 'imports up or across the layers:\n' + '\n'.join(wrong)


def test_no_import_cycle():
    _, graph = _graph()
    edges: Dict[str, Set[str]] = defaultdict(set)
    for module, imports in graph.items():
        edges[module] |= {t for t, _ in imports}
    # Tarjan's strongly connected components, iteratively
    index: Dict[str, int] = {}
    low: Dict[str, int] = {}
    stack: List[str] = []
    on_stack: Set[str] = set()
    cycles = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        top = stack.pop()
                        on_stack.discard(top)
                        component.append(top)
                        if top == node:
                            break
                    if len(component) > 1:
                        cycles.append(sorted(component))
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(edges[child]))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    assert not cycles, f'import cycles: {cycles}'


def test_no_private_name_crosses_a_module():
    _, graph = _graph()
    private = [
        f'{module}: {name} from {target}'
        for module, imports in graph.items() for target, names in imports
        for name in names if name.startswith('_') and not name.startswith('__')
    ]
    assert not private, '\n'.join(private)


def test_the_bottom_layer_imports_alone():
    """``debiascls.utils`` and each of its modules, in a fresh interpreter,
    load no other debiascls sub-package."""
    utils = sorted(m for m in _modules() if _layer(m) == 'utils')
    code = (
        'import importlib, sys\n'
        f'for m in {utils!r}:\n'
        '    importlib.import_module(m)\n'
        "print(sorted({m.split('.')[1] for m in sys.modules\n"
        "              if m.startswith('debiascls.')}))\n")
    env = dict(os.environ, PYTHONPATH=str(REPO))
    out = subprocess.run([sys.executable, '-c', code], env=env, cwd=REPO,
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['utils', 'version']", out.stdout + out.stderr

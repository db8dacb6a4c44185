"""BaseMultiTaskModel: the training step comes from the engine through the registry, so no
module of ``mtlunder.models`` imports ``mtlunder.engine``."""
import ast
import subprocess
import sys
from pathlib import Path

import torch
from mmengine.optim import OptimWrapper

import mtlunder.models

MODELS_DIR = Path(mtlunder.models.__file__).parent


def _engine_imports(path: Path):
    tree = ast.parse(path.read_text(), filename=str(path))
    depth = len(path.relative_to(MODELS_DIR.parent).parts) - 1   # package depth below mtlunder
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:          # relative: resolve against mtlunder.<...>
                if node.level > depth:
                    names = [f'mtlunder.{node.module or ""}']
                else:
                    continue
            else:
                names = [node.module or '']
        else:
            continue
        for name in names:
            if name == 'mtlunder.engine' or name.startswith('mtlunder.engine.'):
                yield f'{path.relative_to(MODELS_DIR.parent)}:{node.lineno} imports {name}'


def test_no_models_module_imports_the_engine():
    found = [hit for path in sorted(MODELS_DIR.rglob('*.py')) for hit in _engine_imports(path)]
    assert not found, found


def test_importing_the_models_does_not_load_the_engine():
    code = 'import sys, mtlunder.models; print("mtlunder.engine" in sys.modules)'
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == 'False'


def test_train_step_runs_the_registered_engine_step(monkeypatch):
    from mtlunder.engine import multitask_train_step
    from mtlunder.registry import FUNCTIONS
    from tests.models.detectors.test_multitask_detector import build, make_batch

    assert FUNCTIONS.get('multitask_train_step') is multitask_train_step
    calls = []

    def spy(model, data, optim_wrapper):
        calls.append(model)
        return multitask_train_step(model, data, optim_wrapper)

    monkeypatch.setitem(FUNCTIONS._module_dict, 'multitask_train_step', spy)
    model = build(('det', ))
    _, samples = make_batch(model)
    raw = [torch.randint(0, 256, (3, 64, 64), dtype=torch.uint8) for _ in range(2)]
    log_vars = model.train_step(dict(inputs=raw, data_samples=samples),
                                OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.01)))
    assert calls == [model] and set(log_vars) == {'loss', 'det.loss_cls', 'det.loss_bbox'}

"""The package's layers (setup.cfg ``[importlinter:contract:layers]``, docs/architectures.md
"Layers"): no module imports from a layer above its own, imports inside functions included."""
import configparser
import os
import os.path as osp
import re

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
SETUP_CFG = osp.join(ROOT, 'setup.cfg')


def _layers():
    """The layers contract's rows, highest first, each a list of subpackage names."""
    cfg = configparser.ConfigParser()
    cfg.read(SETUP_CFG)
    rows = cfg['importlinter:contract:layers']['layers'].strip().splitlines()
    return [[name.strip() for name in re.split(r'[|:]', row)] for row in rows]


def _lint(config: str, capsys) -> int:
    from importlinter.cli import lint_imports

    code = lint_imports(config_filename=config, no_cache=True, no_logo=True)
    print(capsys.readouterr().out)  # the contract report, shown when the test fails
    return code


def test_layers_contract_is_kept(capsys):
    assert _lint(SETUP_CFG, capsys) == 0


def test_every_subpackage_has_a_layer():
    """A new subpackage (or top-level module) must be placed in the contract, else the
    contract would say nothing about it."""
    pkg = osp.join(ROOT, 'mtlunder')
    names = {n[:-3] if n.endswith('.py') else n for n in os.listdir(pkg)
             if (n.endswith('.py') and n != '__init__.py')
             or osp.isfile(osp.join(pkg, n, '__init__.py'))}
    listed = [name for row in _layers() for name in row]
    assert sorted(listed) == sorted(set(listed)), 'a subpackage is listed twice'
    assert set(listed) == names


def test_an_upward_import_inside_a_function_breaks_the_contract(tmp_path, monkeypatch, capsys):
    """The same tool run on a two-layer toy package: a low module importing the high one
    inside a function is reported (the reason analysis code could not stay in utils/)."""
    pkg = tmp_path / 'toylayers'
    (pkg / 'low').mkdir(parents=True)
    (pkg / 'high').mkdir()
    for path in (pkg, pkg / 'low', pkg / 'high'):
        (path / '__init__.py').write_text('')
    (pkg / 'high' / 'top.py').write_text('from toylayers.low import base  # noqa: F401\n')
    (pkg / 'low' / 'base.py').write_text('def helper():\n    from toylayers.high import top\n'
                                         '    return top\n')
    config = tmp_path / 'layers.ini'
    config.write_text('[importlinter]\nroot_package = toylayers\n\n'
                      '[importlinter:contract:toy]\nname = toy\ntype = layers\n'
                      'containers = toylayers\nlayers =\n    high\n    low\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    assert _lint(str(config), capsys) == 1
    (pkg / 'low' / 'base.py').write_text('def helper():\n    return 1\n')
    assert _lint(str(config), capsys) == 0

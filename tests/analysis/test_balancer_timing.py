"""The balancer benchmark's counts on the toy model (its timings are measured, not
tested)."""
from argparse import Namespace

from mtlunder.analysis.balancer_timing import run


def test_pass_counts_and_ew_reference(single_thread):
    args = Namespace(config=None, methods=['EW', 'GLS', 'MGDA', 'MGDAUB'], repeats=1,
                     batch_size=2, size=16, num_tasks=3, device='cpu', clock='cpu',
                     cfg_options={}, data_root=None)
    rows = {r['method']: r for r in run(args)}
    assert rows['EW']['ratio'] == 1.0
    assert (rows['GLS']['kind'], rows['GLS']['forward'], rows['GLS']['backward']) == \
        ('loss', 1, 1)
    # gradients of the shared parameters: one backward per task; of the representation: one
    assert (rows['MGDA']['kind'], rows['MGDA']['backward']) == ('gradient', 3)
    assert (rows['MGDAUB']['source'], rows['MGDAUB']['backward']) == ('repr', 1)
    assert all(r['combine_ms'] > 0 for r in rows.values())


def test_default_methods_are_every_registered_balancer_and_each_runs(single_thread):
    from mtlunder.analysis.balancer_timing import ADAPTERS, default_methods
    from mtlunder.registry import BALANCERS

    methods = default_methods()
    assert set(methods) == set(BALANCERS.module_dict) - set(ADAPTERS)
    args = Namespace(config=None, methods=methods, repeats=1, batch_size=2, size=8,
                     num_tasks=3, device='cpu', clock='cpu', cfg_options={}, data_root=None)
    rows = {r['method']: r for r in run(args)}
    assert set(rows) == set(methods)
    assert all(r['ms'] > 0 and r['combine_ms'] > 0 for r in rows.values())

"""mtlunder.utils.register_all_modules: every registering package imported, scope set."""
from mmengine.registry import DefaultScope

from mtlunder import registry
from mtlunder.utils import register_all_modules


def test_register_all_modules_fills_every_registry_and_sets_the_scope():
    register_all_modules()
    assert DefaultScope.get_current_instance().scope_name == 'mtlunder'
    # module_dict holds what this scope registered (no lazy import from `locations`)
    for name in ('BALANCERS', 'DATASETS', 'TRANSFORMS', 'DATA_SAMPLERS', 'HOOKS', 'METRICS',
                 'MODELS', 'VISUALIZERS', 'FUNCTIONS'):
        assert getattr(registry, name).module_dict, f'{name} is empty'
    assert 'EW' in registry.BALANCERS.module_dict
    assert 'MultiTaskDetector' in registry.MODELS.module_dict

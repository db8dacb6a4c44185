"""The mtlunder registries build mtlunder, mmdet and mmseg components."""
import pytest
import torch

from mtlunder.utils import register_all_modules


@pytest.fixture(scope='module', autouse=True)
def scope():
    register_all_modules()


def test_mmdet_detector_builds_in_mtlunder_scope():
    from mmengine.registry import DefaultScope

    from mtlunder.registry import MODELS

    assert DefaultScope.get_current_instance().scope_name == 'mtlunder'
    detector = MODELS.build(dict(
        type='RetinaNet',
        data_preprocessor=dict(type='DetDataPreprocessor', bgr_to_rgb=True,
                               pad_size_divisor=32),
        backbone=dict(type='ResNet', depth=18, num_stages=4, out_indices=(1, 2, 3),
                      norm_cfg=dict(type='BN'), init_cfg=None),
        neck=dict(type='FPN', in_channels=[128, 256, 512], out_channels=32,
                  start_level=0, add_extra_convs='on_input', num_outs=5),
        bbox_head=dict(
            type='RetinaHead', num_classes=4, in_channels=32, feat_channels=32,
            stacked_convs=1,
            anchor_generator=dict(type='AnchorGenerator', octave_base_scale=4,
                                  scales_per_octave=3, ratios=[0.5, 1.0, 2.0],
                                  strides=[8, 16, 32, 64, 128]),
            bbox_coder=dict(type='DeltaXYWHBBoxCoder', target_means=[.0, .0, .0, .0],
                            target_stds=[1.0, 1.0, 1.0, 1.0]),
            loss_cls=dict(type='FocalLoss', use_sigmoid=True, gamma=2.0, alpha=0.25,
                          loss_weight=1.0),
            loss_bbox=dict(type='L1Loss', loss_weight=1.0)),
        test_cfg=dict(nms_pre=100, min_bbox_size=0, score_thr=0.05,
                      nms=dict(type='nms', iou_threshold=0.5), max_per_img=10)))
    from mmdet.models.detectors import RetinaNet

    assert isinstance(detector, RetinaNet)
    outs = detector(torch.rand(1, 3, 64, 64), mode='tensor')
    assert len(outs) == 2 and len(outs[0]) == 5  # cls/reg scores for five levels


def test_mmseg_component_by_scope_prefix():
    from mtlunder.registry import MODELS

    head = MODELS.build(dict(type='mmseg.FCNHead', in_channels=8, channels=8, num_convs=1,
                             num_classes=3, concat_input=False))
    out = head([torch.rand(1, 8, 16, 16)])
    assert out.shape == (1, 3, 16, 16)


def test_balancers_registry_has_mtlunder_scope():
    from mtlunder.registry import BALANCERS, DATASETS, MODELS

    assert BALANCERS.scope == 'mtlunder'
    assert MODELS.scope == 'mtlunder' and MODELS.parent.scope == 'mmdet'
    assert DATASETS.parent.scope == 'mmdet'


def test_mtlunder_model_wrappers_resolve_in_mmengines_wrap_model():
    """mmengine's Runner.wrap_model looks the wrapper up in its root registry, which misses
    child scopes; compat.resolve_model_wrapper makes the type an import path it finds."""
    from mmengine.config import Config
    from mmengine.registry import MODEL_WRAPPERS as ROOT_WRAPPERS

    from mtlunder import compat
    from mtlunder.engine import MultiTaskDDP
    from mtlunder.utils import register_all_modules

    register_all_modules()
    assert ROOT_WRAPPERS.get('MultiTaskDDP') is None     # the trap
    cfg = Config(dict(model_wrapper_cfg=dict(type='MultiTaskDDP', device_ids=None)))
    compat.resolve_model_wrapper(cfg)
    assert ROOT_WRAPPERS.get(cfg.model_wrapper_cfg.type) is MultiTaskDDP
    assert cfg.model_wrapper_cfg.device_ids is None
    plain = Config(dict(model_wrapper_cfg=dict(type='MMDistributedDataParallel')))
    compat.resolve_model_wrapper(plain)
    assert plain.model_wrapper_cfg.type == 'MMDistributedDataParallel'
    compat.resolve_model_wrapper(Config(dict()))         # no wrapper: nothing to do

"""CascadeEnhanceDetect: enhancement network -> detector on the enhanced image."""
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

from mtlunder.analysis.flops import complexity
from mtlunder.analysis.model_timing import random_batch
from mtlunder.registry import MODELS

ROOT = Path(__file__).resolve().parents[3]
CONFIG = ROOT / 'configs/baselines/cascade-enh-det_r18_demo_underwater.py'
SEPARATE = ROOT / 'configs/baselines/cascade-enh-det-separate_r18_demo_underwater.py'


def build(path=CONFIG, **overrides):
    cfg = Config.fromfile(str(path))
    cfg.model.update(overrides)
    torch.manual_seed(0)
    return MODELS.build(cfg.model)


def det_loss_grads(model):
    """Gradients of the summed det losses w.r.t. the enhancer parameters (None if unused)."""
    batch = random_batch(('det', 'enh'), 2, (64, 64), 4)
    data = model.data_preprocessor(batch, True)
    losses = model(**data, mode='loss')
    det = sum(v for k, v in losses.items() if k.startswith('det.'))
    params = list(model.enhancer.parameters())
    return losses, torch.autograd.grad(det, params, allow_unused=True)


def test_end_to_end_det_loss_trains_the_enhancer():
    model = build().train()
    assert not model.detach_enhanced
    losses, grads = det_loss_grads(model)
    assert {k.partition('.')[0] for k in losses} == {'det', 'enh'}
    assert {'det.loss_cls', 'det.loss_bbox', 'enh.loss_l1'} <= set(losses)
    assert all(torch.isfinite(v) for v in losses.values())
    backbone = [g for g, (n, _) in zip(grads, model.enhancer.named_parameters())
                if n.startswith('backbone.')]
    assert all(g is not None for g in backbone)
    assert sum(float(g.abs().sum()) for g in backbone) > 0


def test_detached_cascade_keeps_det_gradient_out_of_the_enhancer():
    model = build(SEPARATE).train()
    assert model.detach_enhanced
    losses, grads = det_loss_grads(model)
    assert {k.partition('.')[0] for k in losses} == {'det', 'enh'}
    assert all(g is None for g in grads)
    # the enhancement loss still trains the enhancer
    enh = sum(v for k, v in losses.items() if k.startswith('enh.'))
    enh.backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0
               for p in model.enhancer.backbone.parameters())


def test_task_absent_from_batch_gives_no_key():
    model = build().train()
    batch = random_batch(('det', 'enh'), 2, (64, 64), 4)
    for sample in batch['data_samples']:
        sample.set_metainfo(dict(tasks=('det', )))
    losses = model(**model.data_preprocessor(batch, True), mode='loss')
    assert {k.partition('.')[0] for k in losses} == {'det'}


def test_detector_input_is_the_renormalised_enhanced_image():
    model = build().eval()
    batch = random_batch(('det', 'enh'), 1, (64, 64), 4)
    inputs = model.data_preprocessor(batch, False)['inputs']
    head = model.enh_head
    with torch.no_grad():
        _, det_inputs = model.enhance(inputs)
        raw = head(model.enhancer.extract_feat(inputs)['enh'], inputs)
    # de-normalised detector input = the enhanced image clamped to 0..255
    pixels = det_inputs * head.std + head.mean
    assert pixels.min() >= -1e-3 and pixels.max() <= 255 + 1e-3
    torch.testing.assert_close(pixels, (raw * head.std + head.mean).clamp(0, 255))


def test_predict_returns_boxes_and_clean_image_at_ori_shape():
    model = build().eval()
    batch = random_batch(('det', 'enh'), 2, (64, 64), 4)
    for sample in batch['data_samples']:  # the 64x64 input was resized from 96x80
        sample.set_metainfo(dict(ori_shape=(96, 80), scale_factor=(64 / 80, 64 / 96)))
    with torch.no_grad():
        results = model.test_step(batch)
    assert len(results) == 2
    for result in results:
        boxes = result.pred_instances.bboxes
        assert boxes.ndim == 2 and boxes.shape[1] == 4
        assert len(result.pred_instances.scores) == len(boxes) == len(result.pred_instances.labels)
        if len(boxes):
            assert boxes[:, 2].max() <= 80 + 1e-3 and boxes[:, 3].max() <= 96 + 1e-3
        clean = result.pred_clean.data
        assert clean.shape == (3, 96, 80)
        assert clean.min() >= 0 and clean.max() <= 1


def test_tensor_mode_counts_flops_of_both_networks():
    model = build()
    with torch.no_grad():
        out = model(torch.rand(1, 3, 64, 64), mode='tensor')
        result = complexity(model, torch.rand(1, 3, 64, 64), None, model.tasks)
    assert set(out) == {'det', 'enh'} and out['enh'].shape == (1, 3, 64, 64)
    comps = result['components']
    assert set(comps) == {'enhancer', 'detector'}
    assert comps['enhancer'][1] > 0 and comps['detector'][1] > 0
    assert result['total'][1] == pytest.approx(comps['enhancer'][1] + comps['detector'][1])
    assert result['total'][0] == sum(p.numel() for p in model.parameters())


def test_pretrained_enhancer_loads_through_init_cfg(tmp_path):
    single = build(ROOT / 'configs/baselines/single-enh_r18_demo_underwater.py')
    ckpt = tmp_path / 'single_enh.pth'
    torch.save(dict(state_dict=single.state_dict()), ckpt)
    cfg = Config.fromfile(str(SEPARATE))
    cfg.model.enhancer.init_cfg = dict(type='Pretrained', checkpoint=str(ckpt))
    torch.manual_seed(1)
    model = MODELS.build(cfg.model)
    model.init_weights()
    for name, value in single.state_dict().items():
        torch.testing.assert_close(model.enhancer.state_dict()[name], value, msg=name)


def test_grad_conflict_hook_uses_the_enhancer_as_shared():
    from mtlunder.engine.hooks import GradConflictHook

    batch = random_batch(('det', 'enh'), 2, (64, 64), 4)
    joint = GradConflictHook(interval=1).measure(build().train(), batch)
    separate = GradConflictHook(interval=1).measure(build(SEPARATE).train(), batch)
    assert set(joint) == {'cos_det_enh', 'frac_neg_det_enh'}
    assert 0 < abs(joint['cos_det_enh']) <= 1
    assert separate['cos_det_enh'] == 0.0  # no det gradient reaches the enhancer

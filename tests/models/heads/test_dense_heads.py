"""Dense task heads (seg, depth, normal, edge) and the dense multi-task segmentor."""
import math

import pytest
import torch
import torch.nn.functional as F
from mmengine.structures import PixelData

from mtlunder.registry import MODELS
from mtlunder.structures import MultiTaskDataSample
from mtlunder.utils import register_all_modules

pytestmark = pytest.mark.usefixtures('single_thread')
ASPP = dict(type='mmseg.ASPPHead', in_channels=24, channels=8, dilations=(1, 2, 3, 4),
            in_index=0)


@pytest.fixture(scope='module', autouse=True)
def _scope():
    register_all_modules()


def _sample(field, data, img_shape=(4, 4), ori_shape=None, tasks=None):
    meta = dict(img_shape=img_shape, ori_shape=ori_shape or img_shape,
                batch_input_shape=tuple(data.shape[-2:]))
    if tasks is not None:
        meta['tasks'] = tasks
    s = MultiTaskDataSample(metainfo=meta)
    setattr(s, field, PixelData(data=data))
    return s


@pytest.mark.parametrize('head_type,channels', [('DepthHead', 1), ('NormalHead', 3),
                                                ('EdgeHead', 1)])
def test_pixel_heads_shapes_with_both_decoders(head_type, channels):
    fused = MODELS.build(dict(type=head_type, in_channels=[24, 16], channels=8))
    out = fused([torch.randn(2, 24, 8, 8), torch.randn(2, 16, 4, 4)])
    assert out.shape == (2, channels, 8, 8)
    aspp = MODELS.build(dict(type=head_type, decode_head=ASPP))
    assert aspp([torch.randn(2, 24, 8, 8)]).shape == (2, channels, 8, 8)


def test_seg_head_shape_and_argmax_prediction():
    head = MODELS.build(dict(type='SegHead', decode_head=dict(ASPP, num_classes=5)))
    feats = [torch.randn(2, 24, 8, 8)]
    assert head(feats).shape == (2, 5, 8, 8)
    head.eval()
    samples = [MultiTaskDataSample(metainfo=dict(img_shape=(14, 16), ori_shape=(28, 32)))
               for _ in range(2)]
    head.predict(feats, torch.zeros(2, 3, 16, 16), samples)
    pred = samples[0].pred_sem_seg.data
    assert pred.shape == (1, 28, 32) and pred.dtype == torch.long
    assert int(pred.min()) >= 0 and int(pred.max()) < 5


def test_depth_loss_is_l1_over_measured_pixels_only():
    head = MODELS.build(dict(type='DepthHead', in_channels=[4]))
    gt = torch.tensor([[[1.0, 2.0, 0.0, 4.0]] * 4])          # column 2: no measurement
    output = torch.full((1, 1, 4, 4), 3.0, requires_grad=True)
    loss = head.loss_by_feat(output, None, [_sample('gt_depth', gt)])['loss_depth']
    assert float(loss) == pytest.approx((2 + 1 + 1) / 3)      # |3-1|, |3-2|, |3-4|
    loss.backward()
    assert torch.all(output.grad[0, 0, :, 2] == 0) and torch.all(output.grad[0, 0, :, 0] != 0)
    # the padding outside img_shape is not supervised either
    loss = head.loss_by_feat(output.detach(), None,
                             [_sample('gt_depth', gt, img_shape=(2, 2))])['loss_depth']
    assert float(loss) == pytest.approx((2 + 1) / 2)
    assert head.loss_by_feat(output, None, [_sample('gt_depth', torch.zeros(1, 4, 4))]) == {}


def test_normal_loss_uses_unit_vectors_on_valid_pixels():
    head = MODELS.build(dict(type='NormalHead', in_channels=[4]))
    gt = torch.zeros(3, 2, 2)
    gt[2] = 1.0                                               # all +z ...
    gt[:, 1, 1] = 0                                           # ... but one invalid pixel
    output = torch.zeros(1, 3, 2, 2)
    output[0, 0] = 5.0                                        # unit prediction: +x everywhere
    loss = head.loss_by_feat(output, None, [_sample('gt_normal', gt, (2, 2))])
    assert float(loss['loss_normal']) == pytest.approx(2.0)  # |1-0| + |0-1| per valid pixel
    norms = head.predict_by_feat(output, None).norm(dim=1)
    torch.testing.assert_close(norms, torch.ones_like(norms))


def test_edge_loss_is_class_balanced_bce_over_labelled_pixels():
    head = MODELS.build(dict(type='EdgeHead', in_channels=[4]))
    gt = torch.tensor([[[1, 0, 0, 255]]], dtype=torch.uint8)  # 1 edge, 2 non-edge, 1 ignore
    logits = torch.tensor([[[[0.5, -1.0, 2.0, 100.0]]]])
    loss = head.loss_by_feat(logits, None, [_sample('gt_edge', gt, (1, 4))])['loss_edge']
    beta = 2 / 3                                              # fraction of non-edge pixels
    expected = (beta * -math.log(torch.sigmoid(torch.tensor(0.5)).item())
                + (1 - beta) * -math.log(1 - torch.sigmoid(torch.tensor(-1.0)).item())
                + (1 - beta) * -math.log(1 - torch.sigmoid(torch.tensor(2.0)).item())) / 3
    assert float(loss) == pytest.approx(expected, rel=1e-6)


def test_seg_loss_ignores_255_and_matches_cross_entropy():
    head = MODELS.build(dict(type='SegHead', decode_head=dict(ASPP, num_classes=3)))
    logits = torch.randn(2, 3, 4, 4)
    gts = [torch.randint(0, 3, (1, 4, 4), dtype=torch.long) for _ in range(2)]
    gts[0][0, 0, :] = 255
    samples = [_sample('gt_sem_seg', g) for g in gts]
    loss = head.loss_by_feat(logits, None, samples)['loss_ce']
    expected = F.cross_entropy(logits, torch.cat(gts), ignore_index=255)
    torch.testing.assert_close(loss, expected)


def _segmentor_cfg(tasks=('seg', 'depth')):
    heads = dict(seg=dict(type='SegHead', decode_head=dict(ASPP, in_channels=24, num_classes=4)),
                 depth=dict(type='DepthHead', decode_head=dict(ASPP, in_channels=24)),
                 normal=dict(type='NormalHead', in_channels=[24]),
                 edge=dict(type='EdgeHead', in_channels=[24]))
    return dict(
        type='MultiTaskSegmentor',
        data_preprocessor=dict(type='MultiTaskDataPreprocessor', mean=[0.0] * 3,
                               std=[1.0] * 3, pad_size_divisor=8),
        backbone=dict(type='SquadNet', depths=(1, 1, 1), tasks=list(tasks), num_shared=2,
                      group_channels=(4, 6, 8), out_indices=(2, )),
        neck=dict(type='SquadGroupsNeck', tasks=list(tasks), num_shared=2,
                  group_channels=[8]),
        heads={t: heads[t] for t in tasks})


def test_segmentor_trains_each_head_on_its_labelled_samples():
    model = MODELS.build(_segmentor_cfg(('seg', 'depth', 'normal', 'edge')))
    inputs = torch.randn(2, 3, 32, 32)
    seg = _sample('gt_sem_seg', torch.randint(0, 4, (1, 32, 32)), (32, 32), tasks=('seg', ))
    depth = _sample('gt_depth', torch.rand(1, 32, 32) + 0.5, (32, 32), tasks=('depth', ))
    losses = model.loss(inputs, [seg, depth])
    assert set(losses) == {'seg.loss_ce', 'depth.loss_depth'}
    assert all(torch.isfinite(v) for v in losses.values())
    sum(losses.values()).backward()
    assert all(p.grad is None for p in model.heads['normal'].parameters())
    model.eval()
    with torch.no_grad():
        out = model.predict(inputs, [MultiTaskDataSample(metainfo=dict(
            img_shape=(30, 31), ori_shape=(60, 62))) for _ in range(2)])
    assert out[0].pred_sem_seg.data.shape == (1, 60, 62)
    assert out[0].pred_depth.data.shape == (1, 60, 62)
    assert out[0].pred_normal.data.shape == (3, 60, 62)
    assert 0 <= float(out[0].pred_edge.data.min()) <= float(out[0].pred_edge.data.max()) <= 1


def test_heads_must_match_the_task_table():
    cfg = _segmentor_cfg()
    cfg['heads']['depth'] = dict(type='NormalHead', in_channels=[24])
    with pytest.raises(TypeError, match="the 'depth' head must be a BaseTaskHead of task"):
        MODELS.build(cfg)
    cfg = _segmentor_cfg()
    cfg['heads']['det'] = dict(type='RetinaHead', num_classes=2, in_channels=24)
    with pytest.raises(ValueError, match='dense heads only'):
        MODELS.build(cfg)

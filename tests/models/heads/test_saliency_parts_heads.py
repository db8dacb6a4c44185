"""SaliencyHead and PartsHead: shapes, losses against their formulas, backward, predictions."""
import math

import pytest
import torch
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


def _sample(field=None, data=None, img_shape=(2, 2), ori_shape=None):
    meta = dict(img_shape=img_shape, ori_shape=ori_shape or img_shape,
                batch_input_shape=img_shape if data is None else tuple(data.shape[-2:]))
    sample = MultiTaskDataSample(metainfo=meta)
    if field is not None:
        setattr(sample, field, PixelData(data=data))
    return sample


def _bce(z, y):
    p = 1 / (1 + math.exp(-z))
    return -(y * math.log(p) + (1 - y) * math.log(1 - p))


def test_saliency_head_shapes_with_both_decoders():
    aspp = MODELS.build(dict(type='SaliencyHead', decode_head=ASPP))
    assert aspp.task == 'sal' and aspp.decode_head.num_classes == 1
    assert aspp([torch.randn(2, 24, 8, 8)]).shape == (2, 1, 8, 8)
    light = MODELS.build(dict(type='SaliencyHead', in_channels=[24, 16], channels=8))
    assert light([torch.randn(2, 24, 8, 8), torch.randn(2, 16, 4, 4)]).shape == (2, 1, 8, 8)


@pytest.mark.parametrize('balanced', [False, True])
def test_saliency_loss_is_bce_over_labelled_pixels(balanced):
    head = MODELS.build(dict(type='SaliencyHead', in_channels=[4], class_balanced=balanced))
    gt = torch.tensor([[[1, 0], [255, 1]]])
    z = torch.tensor([[0.5, -1.0], [3.0, 2.0]])
    output = z.reshape(1, 1, 2, 2).clone().requires_grad_(True)
    loss = head.loss_by_feat(output, None, [_sample('gt_sal', gt)])['loss_sal']
    terms = [_bce(0.5, 1), _bce(-1.0, 0), _bce(2.0, 1)]
    # balanced: 1/3 of the labelled pixels are background -> salient ones weigh 1/3
    weights = [1 / 3, 2 / 3, 1 / 3] if balanced else [1, 1, 1]
    assert float(loss) == pytest.approx(sum(w * t for w, t in zip(weights, terms)) / 3)
    loss.backward()
    assert output.grad[0, 0, 1, 0] == 0 and torch.all(output.grad[0, 0, 0] != 0)
    assert head.loss_by_feat(output, None, [_sample('gt_sal', torch.full((1, 2, 2), 255))]) \
        == {}


def test_saliency_prediction_is_a_probability_map_at_the_original_size():
    head = MODELS.build(dict(type='SaliencyHead', decode_head=ASPP)).eval()
    feats = [torch.randn(2, 24, 4, 4)]
    samples = [_sample(img_shape=(14, 16), ori_shape=(28, 32)) for _ in range(2)]
    head.predict(feats, torch.zeros(2, 3, 16, 16), samples)
    pred = samples[0].pred_sal.data
    assert pred.shape == (1, 28, 32) and pred.dtype == torch.float32
    assert 0 <= float(pred.min()) and float(pred.max()) <= 1
    # a constant logit z gives sigmoid(z) everywhere
    const = MODELS.build(dict(type='SaliencyHead', in_channels=[24]))
    prob = const.predict_by_feat(torch.full((1, 1, 4, 4), 0.7), torch.zeros(1, 3, 8, 8))
    assert prob.shape == (1, 1, 8, 8) and torch.allclose(prob, torch.sigmoid(torch.tensor(.7)))


def test_saliency_head_trains_only_on_samples_with_a_label():
    head = MODELS.build(dict(type='SaliencyHead', decode_head=ASPP))
    feats = [torch.randn(3, 24, 4, 4, requires_grad=True)]
    gt = torch.randint(0, 2, (1, 4, 4))
    samples = [_sample('gt_sal', gt, (4, 4)), _sample(img_shape=(4, 4)),
               _sample('gt_sal', 1 - gt, (4, 4))]
    loss = head.loss(feats, None, samples)['loss_sal']
    assert torch.isfinite(loss)
    loss.backward()
    assert feats[0].grad[1].abs().sum() == 0 and feats[0].grad[0].abs().sum() > 0
    assert all(p.grad is not None and torch.isfinite(p.grad).all()
               for p in head.parameters() if p.requires_grad)


def test_parts_head_defaults_to_seven_classes_and_its_task():
    head = MODELS.build(dict(type='PartsHead', decode_head=ASPP))
    assert head.task == 'parts' and head.pred_field == 'pred_parts'
    assert head.decode_head.num_classes == 7
    assert head([torch.randn(2, 24, 8, 8)]).shape == (2, 7, 8, 8)
    assert MODELS.build(dict(type='PartsHead', decode_head=dict(ASPP, num_classes=15))
                        ).decode_head.num_classes == 15


def test_parts_loss_is_cross_entropy_on_labelled_images_only():
    head = MODELS.build(dict(type='PartsHead', decode_head=ASPP))
    gt = torch.tensor([[[0, 3], [255, 6]]])
    # equal logits: log(7) per labelled pixel
    loss = head.loss_by_feat(torch.zeros(1, 7, 2, 2), None, [_sample('gt_parts', gt)])
    assert float(loss['loss_ce']) == pytest.approx(math.log(7))
    head.eval()  # fixed BatchNorm statistics: the selected samples' loss is comparable
    feats = [torch.randn(3, 24, 4, 4, requires_grad=True)]
    labels = [torch.randint(0, 7, (1, 4, 4)) for _ in range(2)]
    samples = [_sample('gt_parts', labels[0], (4, 4)), _sample(img_shape=(4, 4)),
               _sample('gt_parts', labels[1], (4, 4))]
    loss = head.loss(feats, None, samples)['loss_ce']
    kept = head.loss_by_feat(head([feats[0][[0, 2]]]), None, [samples[0], samples[2]])
    assert float(loss) == pytest.approx(float(kept['loss_ce']))
    loss.backward()
    assert feats[0].grad[1].abs().sum() == 0 and feats[0].grad[0].abs().sum() > 0
    assert head.loss(feats, None, [_sample(img_shape=(4, 4))] * 3) == {}


def test_parts_prediction_is_a_class_map():
    head = MODELS.build(dict(type='PartsHead', decode_head=ASPP)).eval()
    samples = [_sample(img_shape=(14, 16), ori_shape=(28, 32)) for _ in range(2)]
    head.predict([torch.randn(2, 24, 4, 4)], torch.zeros(2, 3, 16, 16), samples)
    pred = samples[1].pred_parts.data
    assert pred.shape == (1, 28, 32) and pred.dtype == torch.long
    assert 0 <= int(pred.min()) and int(pred.max()) < 7

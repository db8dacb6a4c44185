"""EnhancementHead: residual prediction, valid-region losses, samples without reference."""
import pytest
import torch
from mmengine.structures import PixelData

from mtlunder.structures.multitask_data_sample import MultiTaskDataSample

MEAN = torch.tensor([123.675, 116.28, 103.53]).view(1, 3, 1, 1)
STD = torch.tensor([58.395, 57.12, 57.375]).view(1, 3, 1, 1)


pytestmark = pytest.mark.usefixtures('single_thread')


@pytest.fixture
def head():
    from mtlunder.models.heads import EnhancementHead
    from mtlunder.utils import register_all_modules

    register_all_modules()
    torch.manual_seed(0)
    h = EnhancementHead(in_channels=[8, 8], channels=8)
    h.set_input_norm(MEAN.flatten().tolist(), STD.flatten().tolist(), rgb=True)
    return h


def _feats(batch):
    return [torch.randn(batch, 8, 8, 8), torch.randn(batch, 8, 4, 4)]


def _sample(ref=None, img_shape=(20, 28)):
    sample = MultiTaskDataSample(metainfo=dict(img_shape=img_shape, tasks=('enh', )))
    if ref is not None:
        sample.gt_clean = PixelData(data=ref)
    return sample


def _unit_rgb(x):
    return (x * STD + MEAN) / 255


def test_starts_near_identity_and_predicts_unit_rgb(head):
    inputs, feats = torch.randn(2, 3, 32, 32), _feats(2)
    out = head(feats, inputs)
    assert out.shape == inputs.shape
    assert 0 < (out - inputs).abs().max() < 0.1
    pred = head.predict_by_feat(out, inputs)
    torch.testing.assert_close(pred, _unit_rgb(out).clamp(0, 1))
    assert pred.min() >= 0 and pred.max() <= 1


def test_bgr_normalisation_is_flipped(head):
    head.set_input_norm([1.0, 2.0, 3.0], [2.0, 2.0, 2.0], rgb=False)
    x = torch.zeros(1, 3, 2, 2)
    x[:, 0] = 1.0
    rgb = head.to_unit_rgb(x)
    assert torch.allclose(rgb[0, :, 0, 0] * 255, torch.tensor([3.0, 2.0, 3.0]))


def test_loss_matches_the_math_inside_the_valid_region(head):
    from kornia.metrics import ssim

    inputs = torch.randn(1, 3, 32, 32)
    ref = torch.randn(3, 32, 32)
    feats = _feats(1)
    losses = head.loss(feats, inputs, [_sample(ref)])
    assert set(losses) == {'loss_l1', 'loss_ssim'}
    pred = _unit_rgb(head(feats, inputs))[:, :, :20, :28]
    target = _unit_rgb(ref[None])[:, :, :20, :28]
    torch.testing.assert_close(losses['loss_l1'], (pred - target).abs().mean())
    torch.testing.assert_close(losses['loss_ssim'], 1 - ssim(pred, target, 11).mean())


def test_padding_of_the_reference_does_not_change_the_loss(head):
    inputs = torch.randn(1, 3, 32, 32)
    feats = _feats(1)
    ref = torch.randn(3, 32, 32)
    base = head.loss(feats, inputs, [_sample(ref)])
    padded = ref.clone()
    padded[:, 20:] = 100.0
    padded[:, :, 28:] = -100.0
    same = head.loss(feats, inputs, [_sample(padded)])
    valid = ref.clone()
    valid[:, 5, 5] += 3.0
    moved = head.loss(feats, inputs, [_sample(valid)])
    for key in base:
        torch.testing.assert_close(same[key], base[key])
        assert not torch.allclose(moved[key], base[key])


def test_samples_without_reference_are_skipped(head):
    inputs = torch.randn(3, 3, 32, 32)
    feats = _feats(3)
    ref = torch.randn(3, 32, 32)
    mixed = head.loss(feats, inputs, [_sample(), _sample(ref), _sample()])
    alone = head.loss([f[1:2] for f in feats], inputs[1:2], [_sample(ref)])
    for key in alone:
        torch.testing.assert_close(mixed[key], alone[key])
    assert head.loss(feats, inputs, [_sample(), _sample(), _sample()]) == {}


def test_mixed_valid_sizes_average_the_per_sample_losses(head):
    """Samples are batched per valid size; the result is still the mean of per-sample losses."""
    inputs = torch.randn(3, 3, 32, 32)
    feats = _feats(3)
    refs = [torch.randn(3, 32, 32) for _ in range(3)]
    shapes = [(20, 28), (32, 16), (20, 28)]
    batched = head.loss(feats, inputs, [_sample(r, s) for r, s in zip(refs, shapes)])
    for key in batched:
        singles = [head.loss([f[i:i + 1] for f in feats], inputs[i:i + 1],
                             [_sample(refs[i], shapes[i])])[key] for i in range(3)]
        torch.testing.assert_close(batched[key], sum(singles) / 3)


def test_gradients_reach_every_parameter_and_the_features(head):
    feats = [f.requires_grad_() for f in _feats(2)]
    losses = head.loss(feats, torch.randn(2, 3, 32, 32),
                       [_sample(torch.randn(3, 32, 32)) for _ in range(2)])
    sum(losses.values()).backward()
    for name, param in head.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, name
    assert all(f.grad.abs().sum() > 0 for f in feats)


def test_charbonnier_loss_and_bad_reference(head):
    from mtlunder.models.heads import EnhancementHead

    charb = EnhancementHead([8, 8], channels=8, loss_pixel=dict(type='CharbonnierLoss'),
                            loss_ssim=None)
    charb.set_input_norm(MEAN.flatten().tolist(), STD.flatten().tolist(), rgb=True)
    inputs = torch.randn(1, 3, 32, 32)
    ref = torch.randn(3, 32, 32)
    feats = _feats(1)
    losses = charb.loss(feats, inputs, [_sample(ref)])
    assert list(losses) == ['loss_charbonnier']
    pred = _unit_rgb(charb(feats, inputs))[:, :, :20, :28]
    target = _unit_rgb(ref[None])[:, :, :20, :28]
    expected = ((pred - target).square() + 1e-6).sqrt().mean()
    torch.testing.assert_close(losses['loss_charbonnier'], expected)
    ref[0, 3, 3] = float('nan')
    with pytest.raises(ValueError, match='NaN'):
        charb.loss(_feats(1), inputs, [_sample(ref)])
    with pytest.raises(ValueError, match='img_shape'):
        charb.loss(_feats(1), inputs, [_sample(torch.randn(3, 16, 16))])


def test_loss_trains_towards_the_reference(head):
    """A few Adam steps on one pair lower both losses (gradients reach the head)."""
    inputs = torch.randn(1, 3, 32, 32)
    feats = _feats(1)
    ref = (inputs * 0.5 + 0.3).squeeze(0)
    optim = torch.optim.Adam(head.parameters(), lr=1e-2)
    first = None
    for _ in range(10):
        losses = head.loss(feats, inputs, [_sample(ref, img_shape=(32, 32))])
        total = sum(losses.values())
        first = total.item() if first is None else first
        optim.zero_grad()
        total.backward()
        optim.step()
    assert total.item() < 0.8 * first

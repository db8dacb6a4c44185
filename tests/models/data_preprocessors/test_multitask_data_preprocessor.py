"""MultiTaskDataPreprocessor treats the clean reference exactly like the input."""
import pytest
import torch
from mmengine.structures import PixelData

MEAN, STD = [123.675, 116.28, 103.53], [58.395, 57.12, 57.375]


@pytest.fixture(autouse=True, scope='module')
def mtlunder_scope():
    from mtlunder.utils import register_all_modules

    register_all_modules()


def build(**kwargs):
    from mtlunder.registry import MODELS

    cfg = dict(type='MultiTaskDataPreprocessor', mean=MEAN, std=STD, bgr_to_rgb=True,
               pad_size_divisor=32, pad_value=3)
    return MODELS.build({**cfg, **kwargs})


def make_batch(shapes, clean=('copy', 'copy'), seed=0):
    """uint8 BGR inputs [3, H, W]; gt_clean is a copy of the input, a new image, or None."""
    from mtlunder.structures import MultiTaskDataSample

    g = torch.Generator().manual_seed(seed)
    inputs, samples = [], []
    for (h, w), kind in zip(shapes, clean):
        img = torch.randint(0, 256, (3, h, w), generator=g, dtype=torch.uint8)
        sample = MultiTaskDataSample(metainfo=dict(img_shape=(h, w), img_path=f'{h}x{w}.png',
                                                   tasks=('det', 'enh')))
        if kind == 'copy':
            sample.gt_clean = PixelData(data=img.float())
        elif kind == 'new':
            sample.gt_clean = PixelData(
                data=torch.randint(0, 256, (3, h, w), generator=g).float())
        inputs.append(img)
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


@pytest.mark.parametrize('training', [False, True])
def test_reference_copy_is_identical_to_the_input_including_padding(training):
    out = build()(make_batch([(30, 40), (45, 20)]), training=training)
    inputs = out['inputs']
    assert inputs.shape == (2, 3, 64, 64)
    for i, sample in enumerate(out['data_samples']):
        assert sample.gt_clean.data.shape == (3, 64, 64)
        assert torch.equal(sample.gt_clean.data, inputs[i])
        assert sample.batch_input_shape == (64, 64)
    assert out['data_samples'][0].pad_shape == (32, 64)
    assert out['data_samples'][1].pad_shape == (64, 32)
    assert (inputs[0, :, 30:, :] == 3).all() and (inputs[0, :, :, 40:] == 3).all()


def test_reference_is_converted_and_normalised_by_the_formula():
    batch = make_batch([(20, 24)], clean=('new', ))
    raw = batch['data_samples'][0].gt_clean.data.clone()
    out = build()(batch)
    expected = (raw[[2, 1, 0]] - torch.tensor(MEAN).view(3, 1, 1)) / torch.tensor(STD).view(
        3, 1, 1)
    clean = out['data_samples'][0].gt_clean.data
    torch.testing.assert_close(clean[:, :20, :24], expected)
    assert (clean[:, 20:, :] == 3).all() and (clean[:, :, 24:] == 3).all()


def test_without_normalisation_or_conversion_only_padding_applies():
    batch = make_batch([(20, 24)], clean=('new', ))
    raw = batch['data_samples'][0].gt_clean.data.clone()
    out = build(mean=None, std=None, bgr_to_rgb=False, pad_value=0)(batch)
    clean = out['data_samples'][0].gt_clean.data
    assert torch.equal(clean[:, :20, :24], raw) and clean.shape == (3, 32, 32)


def test_default_collated_batch_is_handled_too():
    batch = make_batch([(30, 40), (30, 40)])
    batch['inputs'] = torch.stack(batch['inputs'])
    out = build()(batch)
    for i, sample in enumerate(out['data_samples']):
        assert torch.equal(sample.gt_clean.data, out['inputs'][i])


def test_samples_without_reference_keep_none():
    out = build()(make_batch([(30, 40), (45, 20)], clean=('copy', None)))
    first, second = out['data_samples']
    assert 'gt_clean' in first and 'gt_clean' not in second
    assert second.batch_input_shape == (64, 64)


def test_mismatched_reference_names_the_image():
    batch = make_batch([(30, 40)])
    batch['data_samples'][0].gt_clean = PixelData(data=torch.zeros(3, 31, 40))
    with pytest.raises(ValueError, match='30x40.png'):
        build()(batch)


def test_batch_augments_are_refused():
    with pytest.raises(ValueError, match='batch_augments'):
        build(batch_augments=[dict(type='BatchSyncRandomResize', random_size_range=(32, 64))])


def test_denormalize_inverts_the_normalisation():
    from mtlunder.models.data_preprocessors import denormalize

    batch = make_batch([(20, 24)], clean=('new', ))
    raw = batch['data_samples'][0].gt_clean.data.clone()
    preprocessor = build()
    clean = preprocessor(batch)['data_samples'][0].gt_clean.data[:, :20, :24]
    rgb01 = raw[[2, 1, 0]] / 255.
    torch.testing.assert_close(preprocessor.denormalize(clean), rgb01)
    torch.testing.assert_close(denormalize(clean[None], MEAN, STD), rgb01[None])
    far = torch.full((3, 2, 2), 10.)  # 10 std above the mean: beyond 255
    assert (denormalize(far, MEAN, STD) == 1).all()
    torch.testing.assert_close(denormalize(far, MEAN, STD, clamp=False),
                               (10 * torch.tensor(STD) + torch.tensor(MEAN)).view(3, 1, 1)
                               .expand(3, 2, 2) / 255.)
    assert torch.equal(build(mean=None, std=None).denormalize(torch.full((3, 1, 1), 51.)),
                       torch.full((3, 1, 1), 0.2))


def test_normalization_and_channel_conversion_are_public_and_read_only():
    pre = build()
    mean, std = pre.normalization
    assert mean.tolist() == pytest.approx(MEAN) and std.tolist() == pytest.approx(STD)
    assert pre.channel_conversion is True
    plain = build(mean=None, std=None, bgr_to_rgb=False)
    assert plain.normalization is None and plain.channel_conversion is False
    with pytest.raises(AttributeError):
        pre.channel_conversion = False


def test_input_normalization_of_any_preprocessor():
    """mmdet's DetDataPreprocessor gives what MultiTaskDataPreprocessor gives; a
    preprocessor that is no image preprocessor neither normalises nor converts."""
    from mmdet.models.data_preprocessors import DetDataPreprocessor
    from mmengine.model import BaseDataPreprocessor

    from mtlunder.models.data_preprocessors import input_normalization

    (mean, std), rgb = input_normalization(DetDataPreprocessor(mean=MEAN, std=STD,
                                                               bgr_to_rgb=True))
    assert mean.tolist() == pytest.approx(MEAN) and std.tolist() == pytest.approx(STD)
    assert rgb is True
    assert input_normalization(DetDataPreprocessor()) == (None, False)
    assert input_normalization(BaseDataPreprocessor()) == (None, False)
    pre = build()
    norm, rgb = input_normalization(pre)
    assert rgb == pre.channel_conversion and all(
        torch.equal(a, b) for a, b in zip(norm, pre.normalization))

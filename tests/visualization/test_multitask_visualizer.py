"""MultiTaskLocalVisualizer on a data sample that holds every task of the table, as ground
truth and as prediction."""
import numpy as np
import pytest
import torch

H, W = 48, 64


def _sample_with_every_task():
    from mmdet.structures.bbox import HorizontalBoxes
    from mmengine.structures import InstanceData, PixelData

    from mtlunder.structures import TASK_SPECS, MultiTaskDataSample

    g = torch.Generator().manual_seed(0)
    sample = MultiTaskDataSample(metainfo=dict(img_path='x.jpg', tasks=tuple(TASK_SPECS)))
    for spec in TASK_SPECS.values():
        if spec.kind == 'boxes':
            gt = InstanceData(bboxes=HorizontalBoxes(torch.tensor([[4., 4., 30., 30.]])),
                              labels=torch.tensor([1]))
            pred = InstanceData(bboxes=torch.tensor([[10., 8., 50., 40.], [0., 0., 5., 5.]]),
                                labels=torch.tensor([0, 2]), scores=torch.tensor([0.9, 0.1]))
        elif spec.kind == 'image':
            gt = PixelData(data=torch.rand(3, H, W, generator=g) * 255)
            pred = PixelData(data=torch.rand(3, H, W, generator=g))
        elif spec.kind == 'label_map':
            gt = PixelData(data=torch.randint(0, 5, (1, H, W), generator=g))
            gt.data[:, :4] = spec.ignore_value
            # a class map per table task, except the probability maps the heads of
            # two-class tasks predict (float): decided by the predicted dtype
            pred = PixelData(data=torch.randint(0, 5, (1, H, W), generator=g)
                             if spec.name in ('seg', 'parts') else
                             torch.rand(1, H, W, generator=g))
            if spec.name not in ('seg', 'parts'):
                gt.data.clamp_(max=1)
                gt.data[:, :4] = spec.ignore_value
        elif spec.kind == 'continuous_map':
            gt = PixelData(data=torch.rand(1, H, W, generator=g) * 5)
            pred = PixelData(data=torch.rand(1, H, W, generator=g) * 5)
        else:
            n = torch.nn.functional.normalize(torch.randn(3, H, W, generator=g), dim=0)
            gt, pred = PixelData(data=n), PixelData(data=n.flip(0))
        sample.set_field(gt, spec.gt_field)
        sample.set_field(pred, spec.pred_field)
    return sample


@pytest.fixture(scope='module')
def visualizer():
    from mtlunder.registry import VISUALIZERS
    from mtlunder.utils import register_all_modules

    register_all_modules()
    vis = VISUALIZERS.build(dict(type='MultiTaskLocalVisualizer', name='test_mt_visualizer'))
    vis.dataset_meta = dict(classes=('a', 'b', 'c'), palette=[(255, 0, 0), (0, 255, 0),
                                                               (0, 0, 255)])
    return vis


def _panel(picture, row, col):
    y, x = row * (H + 4), col * (W + 4)
    return picture[y:y + H, x:x + W]


def test_every_task_gets_a_gt_and_a_pred_panel(visualizer, tmp_path):
    import cv2

    from mtlunder.structures import TASK_SPECS

    sample = _sample_with_every_task()
    image = np.full((H, W, 3), 120, np.uint8)
    out = tmp_path / 'vis' / 'x.png'
    visualizer.add_datasample('x', image, sample, pred_score_thr=0.5, out_file=str(out))
    picture = visualizer.get_image()
    cols = len(TASK_SPECS)
    assert picture.shape == (2 * H + 4, cols * W + 4 * (cols - 1), 3)
    np.testing.assert_array_equal(cv2.imread(str(out))[..., ::-1], picture)
    assert [p.name for p in out.parent.iterdir()] == ['x.png']  # no temporary file left
    names = list(TASK_SPECS)
    for col, spec in enumerate(TASK_SPECS.values()):
        gt, pred = _panel(picture, 0, col)[:H - 12], _panel(picture, 1, col)[:H - 12]
        assert not np.array_equal(gt, pred), spec.name  # two different labels drawn
    det = names.index(next(n for n, s in TASK_SPECS.items() if s.kind == 'boxes'))
    pred_det = _panel(picture, 1, det)
    # the 0.9 box is drawn (its edge at x=10 differs from the flat image), the 0.1 box not
    assert (pred_det[20, 9:12] != 120).any() and (pred_det[2, 2] == 120).all()
    # the enhanced image is shown as predicted (RGB in [0, 1] -> uint8)
    enh = names.index(next(n for n, s in TASK_SPECS.items() if s.kind == 'image'))
    expected = (sample.pred_clean.data.clamp(0, 1) * 255).round().byte().permute(1, 2, 0)
    np.testing.assert_array_equal(_panel(picture, 1, enh)[:30], expected.numpy()[:30])
    # a probability map is grey, a class map is coloured
    for col, spec in enumerate(TASK_SPECS.values()):
        if spec.kind == 'label_map':
            panel = _panel(picture, 1, col)[:30].astype(int)
            grey = (panel[..., 0] == panel[..., 1]).all() and (panel[..., 1] == panel[..., 2]).all()
            assert grey == sample.get(spec.pred_field).data.is_floating_point(), spec.name


def test_missing_labels_get_empty_panels_and_pred_only_draws_one_row(visualizer):
    sample = _sample_with_every_task()
    labelled = ('det', 'depth')
    sample.set_metainfo(dict(tasks=labelled))
    image = np.full((H, W, 3), 120, np.uint8)
    picture = visualizer.draw_sample(image, sample, draw_gt=True, draw_pred=True)
    from mtlunder.structures import TASK_SPECS

    for col, name in enumerate(TASK_SPECS):
        top = _panel(picture, 0, col)[:H - 20]  # above the title
        assert (top == 96).all() == (name not in labelled), name
    only_pred = visualizer.draw_sample(image, sample, draw_gt=False)
    assert only_pred.shape[0] == H
    # no task at all: the image itself
    from mtlunder.structures import MultiTaskDataSample
    assert visualizer.draw_sample(image, MultiTaskDataSample()) is image

"""Pictures of dense predictions: per-kind colouring and the hook's rows for a mixture."""
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from mtlunder.visualization import dense_map_picture, map_range


def test_label_maps_get_one_colour_per_class_and_black_ignore():
    label = np.array([[0, 1, 2], [2, 255, 1]], np.uint8)
    out = dense_map_picture(label, 'label_map', ignore_value=255)
    assert out.shape == (2, 3, 3) and out.dtype == np.uint8
    assert (out[1, 1] == 0).all()                       # ignore
    assert not np.array_equal(out[0, 1], out[0, 2])     # classes 1 and 2 differ
    assert np.array_equal(out[0, 2], out[1, 0])         # same class, same colour
    prob = dense_map_picture(np.array([[0.0, 0.5, 1.0]]), 'label_map', 255, grey=True)
    assert prob[0, :, 0].tolist() == [0, 127, 255] and (prob[..., 0] == prob[..., 2]).all()


def test_depth_and_normals_mark_missing_values_black():
    depth = np.array([[0.0, 1.0, 2.0, 3.0]], np.float32)
    out = dense_map_picture(depth, 'continuous_map', value_range=(1.0, 3.0))
    assert (out[0, 0] == 0).all() and not (out[0, 1] == out[0, 3]).all()
    assert map_range(depth) == pytest.approx(tuple(np.percentile([1, 2, 3], (1, 99))))
    assert map_range(np.zeros((2, 2))) == (0.0, 1.0)
    normals = np.array([[[0, 0, 1], [0, 0, 0]]], np.float32)
    out = dense_map_picture(normals, 'unit_vector_map')
    assert (out[0, 1] == 0).all()
    assert out[0, 0].tolist() == [255, 127, 127]        # BGR of RGB (127, 127, 255)
    with pytest.raises(ValueError, match="label kind 'boxes'"):
        dense_map_picture(depth, 'boxes')


def test_class_palette_matches_the_class_colours():
    from mtlunder.visualization import class_palette

    palette = class_palette(ignore_value=255)
    assert palette.shape == (256, 3) and palette.dtype == np.uint8
    picture = dense_map_picture(np.array([[3, 255]]), 'label_map', ignore_value=255)
    np.testing.assert_array_equal(palette[[3, 255]], picture[0, :, ::-1])
    assert (palette[255] == 0).all() and len({tuple(c) for c in palette[:20]}) == 20


def test_hook_draws_predicted_and_true_maps_of_a_mixture_sample(tmp_path):
    import cv2
    from mmengine.structures import PixelData

    from mtlunder.engine.hooks.multitask_visualization_hook import MultiTaskVisualizationHook
    from mtlunder.structures import MultiTaskDataSample
    from mtlunder.visualization import MultiTaskLocalVisualizer

    img_path = str(tmp_path / 'a.jpg')
    cv2.imwrite(img_path, np.full((12, 16, 3), 128, np.uint8))
    sample = MultiTaskDataSample(metainfo=dict(img_path=img_path, tasks=('depth', ),
                                               source='nyud_depth'))
    sample.pred_depth = PixelData(data=torch.rand(1, 12, 16) + 0.5)
    sample.gt_depth = PixelData(data=torch.rand(1, 12, 16) + 0.5)
    hook = MultiTaskVisualizationHook(draw=True)
    runner = SimpleNamespace(log_dir=str(tmp_path), visualizer=MultiTaskLocalVisualizer(
        name='hook_test_visualizer'))
    hook.after_test_iter(runner, 0, outputs=[sample])
    row = cv2.imread(str(tmp_path / 'vis' / 'nyud_depth' / 'a.png'))
    # gt row above pred row: input | depth
    assert row.shape == (2 * 12 + 4, 2 * 16 + 4, 3)
    assert hook.picture_name(img_path, 'nyud_depth') == 'nyud_depth/a.png'

"""Pictures of dense predictions: per-kind colouring and the hook's rows for a mixture."""
import numpy as np
import pytest
import torch

from mtlunder.visualization import dense_map_picture, map_range, picture_row


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


def test_picture_row_resizes_to_the_first_panel():
    a, b = np.zeros((10, 20, 3), np.uint8), np.full((5, 5, 3), 200, np.uint8)
    row = picture_row([(a, 'a'), (b, 'b')])
    assert row.shape == (10, 44, 3)


def test_hook_draws_predicted_and_true_maps_of_a_mixture_sample(tmp_path):
    import cv2
    from mmengine.structures import PixelData

    from mtlunder.engine.hooks.multitask_visualization_hook import MultiTaskVisualizationHook
    from mtlunder.structures import MultiTaskDataSample

    img_path = str(tmp_path / 'a.jpg')
    cv2.imwrite(img_path, np.full((12, 16, 3), 128, np.uint8))
    sample = MultiTaskDataSample(metainfo=dict(img_path=img_path, tasks=('depth', ),
                                               source='nyud_depth'))
    sample.pred_depth = PixelData(data=torch.rand(1, 12, 16) + 0.5)
    sample.gt_depth = PixelData(data=torch.rand(1, 12, 16) + 0.5)
    hook = MultiTaskVisualizationHook(draw=True)
    row = hook.render(sample, classes=())
    assert row.shape == (12, 3 * 16 + 8, 3)
    assert hook.picture_name(img_path, 'nyud_depth') == 'nyud_depth/a.png'

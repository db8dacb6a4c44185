"""Fixtures of the dataset tests: the mtlunder scope and a tiny on-disk benchmark."""
import pytest

from .tiny_benchmark import blob_image, coco_ann, write_benchmark


@pytest.fixture(autouse=True, scope='session')
def mtlunder_scope():
    from mtlunder.utils import register_all_modules

    register_all_modules()


@pytest.fixture
def tiny_benchmark(tmp_path):
    """Four 48x64 images: two det+enh with boxes, one enh-only, one det background."""
    boxes_a = [(8, 6, 24, 20), (30, 10, 50, 30)]
    boxes_b = [(20, 16, 44, 40)]
    images = [
        dict(file_name='a.png', img=blob_image(48, 64, boxes_a, seed=1),
             ref=blob_image(48, 64, boxes_a, colour=(90, 160, 60), seed=2),
             tasks=['det', 'enh'], water_type='II', range_min=1.0, range_mean=2.5,
             range_max=4.0, depth_below_surface=3.5, source='synthetic'),
        dict(file_name='b.png', img=blob_image(48, 64, boxes_b, seed=3),
             ref=blob_image(48, 64, boxes_b, seed=4), tasks=['det', 'enh']),
        dict(file_name='c.png', img=blob_image(48, 64, [], seed=5),
             ref=blob_image(48, 64, [], seed=6), tasks=['enh']),
        dict(file_name='d.png', img=blob_image(48, 64, [], seed=7), tasks=['det']),
    ]
    annotations = [
        coco_ann(1, 1, boxes_a[0], category_id=2),
        coco_ann(2, 1, boxes_a[1], category_id=4, iscrowd=1),
        coco_ann(3, 2, boxes_b[0], category_id=1),
        coco_ann(4, 2, (5, 5, 5, 9), category_id=3),  # zero width: skipped like mmdet
    ]
    ann_file = write_benchmark(tmp_path, images, annotations)
    return dict(root=tmp_path, ann_file=ann_file, boxes=dict(a=boxes_a, b=boxes_b))

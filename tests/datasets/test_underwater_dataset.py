"""UnderwaterMultiTaskDataset reads the benchmark format with partial labels."""
import json
import math

import numpy as np
import pytest

from .tiny_benchmark import blob_image, coco_ann, write_benchmark

TRAIN_PIPELINE = [
    dict(type='LoadImageFromFile'), dict(type='LoadAnnotations', with_bbox=True),
    dict(type='LoadReferenceImage'),
    dict(type='PairedResize', scale=(320, 320), keep_ratio=True),
    dict(type='PairedRandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackMultiTaskInputs')
]


def build(root, ann_file='annotations/train.json', **kwargs):
    from mtlunder.registry import DATASETS

    return DATASETS.build(dict(type='UnderwaterMultiTaskDataset', data_root=str(root),
                               ann_file=str(ann_file), **kwargs))


def by_name(dataset):
    return {info['img_path'].rsplit('/', 1)[-1]: info
            for info in (dataset.get_data_info(i) for i in range(len(dataset)))}


def test_data_infos_follow_the_format(tiny_benchmark):
    root = tiny_benchmark['root']
    infos = by_name(build(root))
    assert sorted(infos) == ['a.png', 'b.png', 'c.png', 'd.png']

    a = infos['a.png']
    assert a['img_path'] == str(root / 'images' / 'a.png')
    assert a['ref_path'] == str(root / 'references' / 'a.png')
    assert a['tasks'] == ('det', 'enh')
    assert (a['water_type'], a['range_min'], a['range_mean'], a['range_max'],
            a['depth_below_surface'], a['source']) == ('II', 1.0, 2.5, 4.0, 3.5, 'synthetic')
    boxes_a = tiny_benchmark['boxes']['a']
    assert [inst['bbox'] for inst in a['instances']] == [list(b) for b in boxes_a]
    # echinus (id 2) -> label 1, starfish (id 4) -> label 3; iscrowd -> ignore_flag
    assert [inst['bbox_label'] for inst in a['instances']] == [1, 3]
    assert [inst['ignore_flag'] for inst in a['instances']] == [0, 1]

    # the zero-width box of b is skipped, the valid one kept
    assert [inst['bbox'] for inst in infos['b.png']['instances']] == [[20, 16, 44, 40]]
    assert infos['c.png']['instances'] == [] and infos['c.png']['tasks'] == ('enh', )
    assert infos['d.png']['ref_path'] is None and infos['d.png']['tasks'] == ('det', )
    assert 'water_type' not in infos['d.png']


def test_filter_empty_gt_keeps_partial_labels(tiny_benchmark):
    dataset = build(tiny_benchmark['root'], filter_cfg=dict(filter_empty_gt=True))
    # d.png is labelled for det without boxes (mmdet's rule drops it); c.png is enh-only
    assert sorted(by_name(dataset)) == ['a.png', 'b.png', 'c.png']
    with pytest.raises(ValueError, match='train.json.*removes all 4 images'):
        build(tiny_benchmark['root'], filter_cfg=dict(filter_empty_gt=True, min_size=49))
    assert len(build(tiny_benchmark['root'], filter_cfg=dict(filter_empty_gt=True),
                     test_mode=True)) == 4


def test_categories_are_matched_by_name_not_json_order(tmp_path):
    shuffled = [dict(id=10, name='starfish'), dict(id=11, name='scallop'),
                dict(id=12, name='holothurian'), dict(id=13, name='echinus'),
                dict(id=14, name='fish')]
    boxes = [(4, 4, 12, 12), (20, 4, 30, 12), (4, 20, 12, 30), (20, 20, 30, 30)]
    images = [dict(file_name='x.png', img=blob_image(32, 32, boxes), tasks=['det'])]
    anns = [coco_ann(i + 1, 1, box, cat) for i, (box, cat) in
            enumerate(zip(boxes, (10, 11, 12, 14)))]
    write_benchmark(tmp_path, images, anns, categories=shuffled)
    # echinus has no box: filtering must still work with a class absent from the file
    (info, ) = by_name(build(tmp_path, filter_cfg=dict(filter_empty_gt=True))).values()
    classes = ('holothurian', 'echinus', 'scallop', 'starfish')
    names = [classes[inst['bbox_label']] for inst in info['instances']]
    assert names == ['starfish', 'scallop', 'holothurian']  # 'fish' is outside the classes


def _rewrite(ann_file, edit):
    data = json.loads(ann_file.read_text())
    edit(data)
    ann_file.write_text(json.dumps(data))


@pytest.mark.parametrize('edit, message', [
    (lambda d: d['categories'].pop(2), "classes ['scallop']"),
    (lambda d: d['annotations'][0].update(bbox=[1, 2, math.nan, 4]), 'annotation 1'),
    (lambda d: d['annotations'][0].update(category_id=9), 'category_id 9'),
    (lambda d: d['annotations'].append(coco_ann(9, 3, (1, 1, 9, 9), 1)), "'det'"),
    (lambda d: d['images'][3].update(tasks=['det', 'enh']), 'no reference'),
    (lambda d: d['images'][3].update(tasks=['det', 'dept']), "unknown tasks ['dept']"),
])
def test_bad_annotations_name_the_file(tiny_benchmark, edit, message):
    ann_file = tiny_benchmark['ann_file']
    _rewrite(ann_file, edit)
    with pytest.raises(ValueError, match='train.json') as err:
        build(tiny_benchmark['root'])
    assert message in str(err.value)


def test_tasks_default_from_the_reference(tiny_benchmark):
    _rewrite(tiny_benchmark['ann_file'],
             lambda d: [img.pop('tasks') for img in d['images']])
    infos = by_name(build(tiny_benchmark['root']))
    assert infos['c.png']['tasks'] == ('det', 'enh')
    assert infos['d.png']['tasks'] == ('det', )


def test_check_files_names_missing_files(tiny_benchmark):
    root = tiny_benchmark['root']
    assert len(build(root, check_files=True)) == 4
    (root / 'references' / 'b.png').unlink()
    with pytest.raises(FileNotFoundError, match='references/b.png'):
        build(root, check_files=True)
    assert len(build(root)) == 4  # without the check, the transform reports it on load


def test_pipeline_packs_partial_samples(tiny_benchmark):
    from mtlunder.structures import MultiTaskDataSample

    dataset = build(tiny_benchmark['root'], pipeline=TRAIN_PIPELINE,
                    filter_cfg=dict(filter_empty_gt=True))
    names = list(by_name(dataset))
    for idx, name in enumerate(names):
        out = dataset[idx]
        sample = out['data_samples']
        assert isinstance(sample, MultiTaskDataSample)
        assert out['inputs'].shape[1:] == sample.img_shape
        assert max(sample.img_shape) == 320  # keep_ratio resize of 64x48
        assert sample.gt_clean.data.shape == out['inputs'].shape
        assert sample.ref_path.endswith(f'references/{name}')
        expected = {'a.png': ('det', 'enh'), 'b.png': ('det', 'enh'), 'c.png': ('enh', )}
        assert sample.tasks == expected[name]
        assert sample.metainfo.get('water_type') == ('II' if name == 'a.png' else None)
        assert len(sample.gt_instances) + len(sample.ignored_instances) == \
            {'a.png': 2, 'b.png': 1, 'c.png': 0}[name]


def test_missing_reference_and_unreadable_image_name_the_file(tiny_benchmark):
    root = tiny_benchmark['root']
    dataset = build(root, pipeline=TRAIN_PIPELINE[:3])
    order = list(by_name(dataset))
    (root / 'references' / 'a.png').unlink()
    with pytest.raises(FileNotFoundError, match='references/a.png'):
        dataset.prepare_data(order.index('a.png'))
    (root / 'images' / 'b.png').write_bytes(b'not a png at all' * 10)
    with pytest.raises(Exception, match='images/b.png'):
        dataset.prepare_data(order.index('b.png'))
    (root / 'images' / 'c.png').unlink()
    with pytest.raises(FileNotFoundError, match='images/c.png'):
        dataset.prepare_data(order.index('c.png'))


def test_random_crop_keeps_samples_without_detection_labels(tiny_benchmark):
    from mmcv.transforms import Compose

    dataset = build(tiny_benchmark['root'])
    order = list(by_name(dataset))
    pipeline = Compose([
        dict(type='LoadImageFromFile'), dict(type='LoadAnnotations', with_bbox=True),
        dict(type='LoadReferenceImage'),
        dict(type='PairedRandomCrop', crop_size=(16, 16), allow_negative_crop=False)
    ])
    for seed in range(5):
        np.random.seed(seed)
        out = pipeline(dataset.get_data_info(order.index('c.png')))
        assert out is not None and out['img'].shape[:2] == (16, 16)
        assert out['gt_clean'].shape == out['img'].shape

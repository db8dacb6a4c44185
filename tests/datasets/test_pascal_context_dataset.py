"""PascalContextDataset on the output of the PASCAL-Context converter."""
import json

import numpy as np
import pytest
import torch

from tests.data_converters.builders import random_pascal_mt

LOAD = [dict(type='LoadImageFromFile'), dict(type='LoadDenseAnnotations')]
PACK = [dict(type='PackMultiTaskInputs')]


@pytest.fixture(scope='module')
def converted(tmp_path_factory):
    """4 train + 2 val 48x64 samples; the even ones (train 0, 2; val 4) have human parts."""
    from mtlunder.data_converters import convert_pascal_context

    tmp = tmp_path_factory.mktemp('pascal_context')
    root = random_pascal_mt(tmp / 'PASCAL_MT', num_train=4, num_val=2)
    convert_pascal_context(root, tmp / 'pc', show_progress=False)
    return tmp / 'pc'


def build(root, **kwargs):
    from mtlunder.registry import DATASETS

    return DATASETS.build(dict(type='PascalContextDataset', data_root=str(root), **kwargs))


def _copy_with_meta(src, dst, **changes):
    import shutil

    shutil.copytree(src, dst)
    meta = json.loads((dst / 'meta.json').read_text())
    meta.update(changes)
    (dst / 'meta.json').write_text(json.dumps(meta))
    return dst


def test_metainfo_holds_the_bundled_classes(converted):
    from mtlunder.data_converters.pascal import PARTS_CLASSES
    from mtlunder.data_converters.pascal_context_classes import CONTEXT59_CLASSES

    dataset = build(converted, split='train')
    assert dataset.metainfo['classes'] == CONTEXT59_CLASSES and len(CONTEXT59_CLASSES) == 60
    assert dataset.metainfo['parts_classes'] == PARTS_CLASSES
    assert dataset.metainfo['tasks'] == ('seg', 'normal', 'edge', 'sal', 'parts')
    tasks = [dataset.get_data_info(i)['tasks'] for i in range(len(dataset))]
    assert ['parts' in t for t in tasks] == [True, False, True, False]
    assert all({'seg', 'normal', 'edge', 'sal'} <= set(t) for t in tasks)


def test_pipeline_packs_parts_only_where_labelled(converted):
    from mtlunder.data_converters.io import read_label_map

    dataset = build(converted, split='val', tasks=['seg', 'parts', 'sal'], pipeline=LOAD + PACK)
    first, second = dataset[0]['data_samples'], dataset[1]['data_samples']
    parts = read_label_map(converted / 'parts' / f'{first.img_id}.png')
    assert torch.equal(first.gt_parts.data[0], torch.from_numpy(parts).long())
    assert set(np.unique(parts)) == {0, 1, 2}  # background, head, torso
    assert 'gt_parts' not in second and second.tasks == ('seg', 'sal')
    assert set(first.gt_sal.data.unique().tolist()) == {0, 1}
    assert int(first.gt_sem_seg.data.max()) < 60


def test_drop_unlabelled_keeps_the_images_with_parts(converted):
    dataset = build(converted, split='train', tasks=['parts'],
                    filter_cfg=dict(drop_unlabelled=True))
    assert len(dataset) == 2 and all(dataset.get_data_info(i)['tasks'] == ('parts', )
                                     for i in range(2))
    assert len(build(converted, split='train', tasks=['parts'])) == 4


def test_other_classes_are_refused(converted, tmp_path):
    from mtlunder.data_converters.pascal import VOC_SEG_CLASSES

    own = _copy_with_meta(converted, tmp_path / 'own', seg_classes=['0', '1', '2'])
    with pytest.raises(ValueError) as err:
        build(own)
    for word in ('meta.json', 'seg_classes', "('0', '1', '2')", "'context59'",
                 'convert_pascal_context.py data/PASCAL_MT data/pascal_context',
                 'DenseMultiTaskDataset'):
        assert word in str(err.value)
    voc = _copy_with_meta(converted, tmp_path / 'voc', seg_classes=list(VOC_SEG_CLASSES))
    with pytest.raises(ValueError, match="--seg-source context59"):
        build(voc)
    assert build(voc, seg_source='voc21').metainfo['classes'] == VOC_SEG_CLASSES
    with pytest.raises(ValueError, match="seg_source 'mapping'"):
        build(voc, seg_source='mapping')
    parts = _copy_with_meta(converted, tmp_path / 'parts', parts_classes=['bg', 'person'])
    with pytest.raises(ValueError, match='parts_classes'):
        build(parts)


def test_missing_meta_names_the_command(tmp_path):
    with pytest.raises(FileNotFoundError) as err:
        build(tmp_path)
    assert 'meta.json not found' in str(err.value)
    assert 'python data_tools/convert_pascal_context.py data/PASCAL_MT data/pascal_context' \
        in str(err.value)

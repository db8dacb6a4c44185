"""MixedMultiTaskDataset: per-source tasks, labels and pipelines; balanced batches on 2
ranks; the VOC + NYUD-v2 demo data."""
import json

import numpy as np
import pytest
from mmengine.config import Config
from mmengine.dataset import DefaultSampler
from mmengine.registry import init_default_scope

from mtlunder.datasets import (DenseMultiTaskDataset, MixedMultiTaskDataset,
                               TaskBalancedBatchSampler)
from mtlunder.registry import DATASETS

DEMO_CONFIG = 'configs/voc_nyud/squad-retinanet_r18_demo_voc-nyud.py'


def _demo_dataset_cfg(root, split='train'):
    """The demo config's dataset with the data root of the test session."""
    cfg = Config.fromfile(DEMO_CONFIG)
    loader = cfg.train_dataloader if split == 'train' else cfg.val_dataloader
    dataset = loader.dataset.to_dict()
    for source in dataset['sources'].values():
        sub = source['dataset']
        sub['data_root'] = sub['data_root'].replace('data/voc_nyud_demo', str(root))
    return dataset


@pytest.fixture
def mixed(voc_nyud_demo):
    init_default_scope('mtlunder')
    return DATASETS.build(_demo_dataset_cfg(voc_nyud_demo))


def test_demo_data_says_which_labels_are_real(voc_nyud_demo):
    readme = (voc_nyud_demo / 'README.md').read_text()
    assert 'STAND-IN' in readme and 'real' in readme
    voc = json.loads((voc_nyud_demo / 'voc' / 'meta.json').read_text())
    nyud = json.loads((voc_nyud_demo / 'nyud' / 'meta.json').read_text())
    # 10 VOC samples, 2 truncated ones skipped; 4 NYUD-v2 RGB-D frames
    assert voc['num_samples'] == 8 and voc['tasks'] == {'seg': 8}
    assert nyud['num_samples'] == 4 and nyud['tasks'] == {'depth': 4}
    val = json.loads((voc_nyud_demo / 'voc' / 'annotations' / 'val.json').read_text())
    assert all(img['tasks'] == ['det', 'seg'] and img['segmentation'] for img in
               val['images'])
    assert len(val['annotations']) > 0


def test_each_sample_carries_only_its_source_tasks(mixed):
    assert mixed.metainfo['tasks'] == ('det', 'seg', 'depth')
    assert len(mixed.metainfo['det_classes']) == 20 and 'person' in mixed.metainfo['classes']
    assert mixed.metainfo['seg_classes'][0] == 'background'
    assert len(mixed.metainfo['seg_classes']) == 21
    counts = {name: s['num_samples'] for name, s in mixed.metainfo['sources'].items()}
    assert counts == dict(voc_det=8, voc_seg=8, nyud_depth=4) and len(mixed) == 20
    expected = dict(voc_det=('det', ), voc_seg=('seg', ), nyud_depth=('depth', ))
    for idx in range(len(mixed)):
        info = mixed.get_data_info(idx)
        assert info['tasks'] == expected[info['source']] == expected[mixed.source_of(idx)]
        assert info['sample_idx'] == idx
        if info['source'] == 'voc_det':
            # the VOC json also names the (stand-in) mask: the det source must not load it
            assert info['instances'] and info['seg_path'] is None
        else:
            assert not info.get('instances')
        if info['source'] == 'voc_seg':
            assert info['seg_path'].endswith('.png') and info.get('depth_path') is None


def test_each_source_runs_its_own_pipeline(mixed):
    sources = {}
    for idx in range(len(mixed)):
        sources.setdefault(mixed.source_of(idx), idx)
    det = mixed[sources['voc_det']]['data_samples']
    assert len(det.gt_instances) > 0 and 'gt_sem_seg' not in det
    assert det.tasks == ('det', ) and det.source == 'voc_det'
    seg = mixed[sources['voc_seg']]['data_samples']
    assert 'gt_sem_seg' in seg and 'gt_depth' not in seg and len(seg.gt_instances) == 0
    # the dense sources crop to 256 x 192 (W x H); the detection source only resizes
    assert tuple(seg.gt_sem_seg.data.shape[-2:]) == (192, 256)
    depth = mixed[sources['nyud_depth']]['data_samples']
    assert 'gt_depth' in depth and 'gt_sem_seg' not in depth
    assert float(depth.gt_depth.data.max()) > 0.5   # metres


def test_balanced_batches_hold_every_task_on_two_ranks(mixed):
    per_rank = {}
    for rank in (0, 1):
        sampler = DefaultSampler(mixed, shuffle=True, seed=3)
        sampler.rank, sampler.world_size = rank, 2
        batches = list(TaskBalancedBatchSampler(sampler, batch_size=4))
        assert len(batches) == 20 // (2 * 4)
        for batch in batches:
            assert {t for i in batch for t in mixed.get_data_info(i)['tasks']} == \
                {'det', 'seg', 'depth'}
        per_rank[rank] = batches
    assert per_rank[0] != per_rank[1]


def test_val_mixture_is_scored_per_source(voc_nyud_demo):
    init_default_scope('mtlunder')
    val = DATASETS.build(_demo_dataset_cfg(voc_nyud_demo, 'val'))
    assert {val.get_data_info(i)['source'] for i in range(len(val))} == \
        {'voc_det', 'voc_seg', 'nyud_depth'}
    assert all(val.datasets[s].test_mode for s in range(3))


def _dense(root, tasks=None, **kwargs):
    return DenseMultiTaskDataset(data_root=str(root), split='train', tasks=tasks,
                                 pipeline=[], **kwargs)


def test_bad_sources_are_errors(voc_nyud_demo):
    voc, nyud = voc_nyud_demo / 'voc', voc_nyud_demo / 'nyud'
    with pytest.raises(ValueError, match='at least one source'):
        MixedMultiTaskDataset({})
    with pytest.raises(TypeError, match=r"source 'a'.*dict\(dataset="):
        MixedMultiTaskDataset(dict(a=_dense(voc)))
    with pytest.raises(ValueError, match="source 'a': unknown tasks"):
        MixedMultiTaskDataset(dict(a=dict(dataset=_dense(voc), tasks=['sky'])))
    # NYUD-v2 has no segmentation here: no sample of the source is labelled for it
    with pytest.raises(ValueError, match="source 'n'.*no sample labelled for \\['seg'\\]"):
        MixedMultiTaskDataset(dict(n=dict(dataset=_dense(nyud), tasks=['seg'])))
    other = _dense(voc, metainfo=None)
    other._metainfo['classes'] = tuple(f'c{i}' for i in range(21))
    with pytest.raises(ValueError, match="sources 'a' and 'b' both serve 'seg'"):
        MixedMultiTaskDataset(dict(a=dict(dataset=_dense(voc), tasks=['seg']),
                                   b=dict(dataset=other, tasks=['seg'])))


def test_box_masks_paint_large_boxes_first(tmp_path):
    from mtlunder.data_converters.pascal import VOC_CLASSES
    from mtlunder.data_converters.voc_nyud_demo import box_masks

    xml = tmp_path / 'a.xml'
    objects = ''.join(
        f'<object><name>{n}</name><difficult>{d}</difficult><bndbox><xmin>{x0}</xmin>'
        f'<ymin>{y0}</ymin><xmax>{x1}</xmax><ymax>{y1}</ymax></bndbox></object>'
        for n, d, x0, y0, x1, y1 in [('person', 0, 3, 3, 4, 4), ('dog', 0, 1, 1, 8, 6),
                                     ('cat', 1, 8, 1, 10, 2)])
    xml.write_text(f'<annotation><filename>a.jpg</filename><size><width>10</width>'
                   f'<height>6</height></size>{objects}</annotation>')
    mask = box_masks(xml, 6, 10)
    dog, person = 1 + VOC_CLASSES.index('dog'), 1 + VOC_CLASSES.index('person')
    expected = np.zeros((6, 10), np.uint8)
    expected[0:6, 0:8] = dog          # 1-based inclusive pixels 1..8 x 1..6
    expected[2:4, 2:4] = person       # the smaller box stays on top
    expected[0:2, 7:10] = 255         # difficult: ignore
    assert np.array_equal(mask, expected)

"""PASCAL-Context (PASCAL_MT layout) -> dense format: the bundled 59-class mapping, the
segmentation sources, parts, saliency, normals, edges and the argument / data errors."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mtlunder.data_converters import DataError, check_dataset, convert_pascal_context
from mtlunder.data_converters.io import read_label_map
from mtlunder.data_converters.pascal import (HUMAN_PART, PARTS_CLASSES, VOC_SEG_CLASSES,
                                             label_edges)
from mtlunder.data_converters.pascal_context_classes import (CONTEXT59, CONTEXT59_CLASSES,
                                                             NUM_CONTEXT_LABELS, context59_lut)

from .builders import make_pascal_mt

PROJECT = Path(__file__).resolve().parents[2]
H, W = 6, 8
#: 459-space ids of the LabelMap below and their 60-class values: listed ids go to their
#: class; unlisted ones (3 lies between aeroplane 2 and bag 9, 285 between person 284 and
#: plate 295, 459 above wood 458) and 0 go to background.
LISTED = {2: 1, 9: 2, 284: 37, 458: 59}
UNLISTED = (0, 3, 285, 459)


def _label_map():
    ids = np.array(list(LISTED) + list(UNLISTED))
    return np.resize(ids, (H, W))


def test_bundled_table_is_the_59_class_subset():
    ids = [i for i, _ in CONTEXT59]
    names = [n for _, n in CONTEXT59]
    assert len(CONTEXT59) == 59 and ids == sorted(set(ids)) and names == sorted(names)
    assert CONTEXT59_CLASSES[0] == 'background' and len(CONTEXT59_CLASSES) == 60
    assert dict(CONTEXT59)[284] == 'person' and dict(CONTEXT59)[397] == 'table'
    lut = context59_lut()
    assert lut.shape == (NUM_CONTEXT_LABELS + 1, )
    assert np.array_equal(lut[ids], np.arange(1, 60))
    unlisted = np.setdiff1d(np.arange(NUM_CONTEXT_LABELS + 1), ids)
    assert len(unlisted) == 401 and not lut[unlisted].any()  # 400 classes + unlabelled
    for label_id, cls in LISTED.items():
        assert lut[label_id] == cls
        assert CONTEXT59_CLASSES[lut[label_id]] == dict(CONTEXT59)[label_id]


def test_bundled_names_match_mmseg_pascal_context_59():
    from mmseg.datasets import PascalContextDataset59

    assert tuple(PascalContextDataset59.METAINFO['classes']) == CONTEXT59_CLASSES[1:]


@pytest.fixture
def pascal_mt(tmp_path):
    """Three images: a has a person with head and lower-arm parts and VOC12 + context
    semseg PNGs; b a person without parts and only a context PNG; c no human_parts file
    and no PNG."""
    head, arm = np.zeros((H, W), bool), np.zeros((H, W), bool)
    head[0:2, 0:2] = True
    arm[3:5, 1:3] = True
    sal = np.tile(np.linspace(0, 255, W).astype(np.uint8), (H, 1))
    normal = np.random.default_rng(2).integers(0, 256, (H, W, 3), dtype=np.uint8)
    voc12, context_png = np.full((H, W), 15, np.uint8), np.full((H, W), 7, np.uint8)
    voc12[0] = 255
    samples = dict(
        a=dict(label_map=_label_map(), parts=dict(head=head, llarm=arm), sal=sal,
               normal=normal, voc12=voc12, context_png=context_png),
        b=dict(label_map=_label_map(), parts={}, sal=sal, normal=normal,
               context_png=context_png),
        c=dict(label_map=_label_map(), sal=sal, normal=normal))
    root = make_pascal_mt(tmp_path / 'PASCAL_MT', samples, dict(train=['a', 'b'], val=['c']))
    return root, dict(head=head, arm=arm, sal=sal, normal=normal, voc12=voc12,
                      context_png=context_png)


def test_default_maps_the_labelmap_to_59_classes_and_background(pascal_mt, tmp_path):
    root, want = pascal_mt
    out = tmp_path / 'pc'
    report = convert_pascal_context(root, out, show_progress=False)
    expected = np.vectorize(lambda v: LISTED.get(v, 0))(_label_map())
    assert expected.max() == 59 and (expected == 0).sum() == 24
    for sid in 'abc':  # the semseg PNGs of a and b are not read: one class space
        assert np.array_equal(read_label_map(out / 'segmentation' / f'{sid}.png'), expected)
    meta = json.loads((out / 'meta.json').read_text())
    assert meta['seg_classes'] == list(CONTEXT59_CLASSES) and meta['seg_source'] == 'context59'
    assert meta['parts_classes'] == list(PARTS_CLASSES)
    # parts: only a (b's person has no parts, c has no file)
    parts = np.zeros((H, W), np.uint8)
    parts[want['head']], parts[want['arm']] = HUMAN_PART['head'], HUMAN_PART['llarm']
    assert np.array_equal(read_label_map(out / 'parts' / 'a.png'), parts)
    assert not (out / 'parts' / 'b.png').exists() and not (out / 'parts' / 'c.png').exists()
    assert report.counts['images without human parts (not labelled for parts)'] == 1
    edges = read_label_map(out / 'edges' / 'a.png')
    assert np.array_equal(edges, label_edges(_label_map()))
    assert np.array_equal(read_label_map(out / 'saliency' / 'b.png'), want['sal'] > 127.5)
    assert np.allclose(np.load(out / 'normals' / 'c.npy'),
                       2 * want['normal'].astype(np.float64) / 255.0 - 1, atol=1e-6)
    assert meta['tasks'] == dict(edge=3, normal=3, parts=1, sal=3, seg=3)
    assert meta['splits'] == dict(train=2, val=1)
    assert check_dataset(out, show_progress=False).num_errors == 0


def test_voc21_reads_only_the_semseg_pngs(pascal_mt, tmp_path):
    root, want = pascal_mt
    out = tmp_path / 'voc21'
    report = convert_pascal_context(root, out, seg_source='voc21', show_progress=False)
    assert np.array_equal(read_label_map(out / 'segmentation' / 'a.png'), want['voc12'])
    assert np.array_equal(read_label_map(out / 'segmentation' / 'b.png'), want['context_png'])
    assert not (out / 'segmentation' / 'c.png').exists()  # no PNG: not labelled, not mapped
    assert any('c.png' in m for m in report.issues['missing_annotation'])
    assert report.counts['seg from semseg/VOC12'] == 1
    assert report.counts['seg from semseg/pascal-context'] == 1
    meta = json.loads((out / 'meta.json').read_text())
    assert meta['seg_classes'] == list(VOC_SEG_CLASSES) and meta['tasks']['seg'] == 2
    assert (out / 'edges' / 'c.png').exists()  # edges still come from the LabelMap


def test_user_mapping(pascal_mt, tmp_path):
    root, _ = pascal_mt
    mapping = tmp_path / 'map.txt'
    mapping.write_text('# LabelMap id -> class\n2 1\n284 2\n0 0\n')
    out = tmp_path / 'own'
    convert_pascal_context(root, out, seg_mapping=mapping, num_seg_classes=3,
                           show_progress=False)
    own = {2: 1, 284: 2, 0: 0}
    expected = np.vectorize(lambda v: own.get(v, 255))(_label_map())
    assert np.array_equal(read_label_map(out / 'segmentation' / 'b.png'), expected)
    meta = json.loads((out / 'meta.json').read_text())
    assert meta['seg_classes'] == ['0', '1', '2'] and meta['seg_source'] == 'mapping'
    assert meta['seg_mapping'] == str(mapping)


@pytest.mark.parametrize('kwargs, words', [
    (dict(seg_source='mapping'), ["'mapping'", '--seg-mapping']),
    (dict(seg_source='voc21', seg_mapping=Path('m.txt')), ["'voc21'", 'm.txt']),
    (dict(num_seg_classes=60), ['num_seg_classes', "'context59'", '60 classes']),
    (dict(seg_source='context60'), ["'context60'", 'context59', 'voc21']),
])
def test_inconsistent_arguments_are_refused(pascal_mt, tmp_path, kwargs, words):
    root, _ = pascal_mt
    with pytest.raises(ValueError) as err:
        convert_pascal_context(root, tmp_path / 'out', show_progress=False, **kwargs)
    for word in words:
        assert word in str(err.value)
    assert not (tmp_path / 'out').exists()


def test_a_labelmap_value_outside_labels_txt_names_the_file(tmp_path):
    bad = _label_map()
    bad[0, 0] = NUM_CONTEXT_LABELS + 1
    root = make_pascal_mt(tmp_path / 'PASCAL_MT', dict(x=dict(label_map=bad)), dict(val=['x']))
    with pytest.raises(DataError, match=r'trainval/x\.mat: LabelMap values \[460\] outside '
                                        r'0\.\.459'):
        convert_pascal_context(root, tmp_path / 'out', show_progress=False)
    assert not (tmp_path / 'out').exists()


def test_command_line(pascal_mt, tmp_path):
    root, _ = pascal_mt
    tool = [sys.executable, 'data_tools/convert_pascal_context.py', str(root)]
    proc = subprocess.run(tool + [str(tmp_path / 'v'), '--seg-source', 'voc21', '--no-progress'],
                          cwd=PROJECT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert '(seg: voc21)' in proc.stdout and 'labels seg: 2' in proc.stdout
    proc = subprocess.run(tool + [str(tmp_path / 'm'), '--seg-source', 'mapping'],
                          cwd=PROJECT, capture_output=True, text=True)
    assert proc.returncode == 2 and '--seg-mapping' in proc.stderr

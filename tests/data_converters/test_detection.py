import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from mtlunder.data_converters import (ClassResolver, DataError, Report, parse_class_map,
                                      read_coco_detection, read_voc_detection, read_yolo_detection,
                                      to_coco, write_yolo)

from .builders import make_voc, voc_xml, write_image, write_truncated_jpeg

PROJECT = Path(__file__).resolve().parents[2]
OBJ_A = [('urchin', 1, 1, 10, 20, 0), ('holothurian', 5, 6, 30, 40, 1)]
OBJ_D = [('scallop', 60, 40, 80, 60, 0)]


@pytest.fixture
def voc_tree(tmp_path):
    root = make_voc(tmp_path / 'voc', {'a': (64, 48, OBJ_A), 'c': (64, 48, None),
                                       'd': (64, 48, OBJ_D)})
    # xml says 64x48, the image is 50x40
    write_image(root / 'JPEGImages' / 'b.jpg', 50, 40)
    (root / 'Annotations' / 'b.xml').write_text(voc_xml('b.jpg', 64, 48, OBJ_D))
    write_truncated_jpeg(root / 'JPEGImages' / 'f.jpg')
    (root / 'Annotations' / 'f.xml').write_text(voc_xml('f.jpg', 64, 48, OBJ_D))
    (root / 'Annotations' / 'notes.txt').write_text('not an annotation')
    write_image(root / 'Annotations' / 'e.JPG', 8, 8)
    return root


def boxes_of(records):
    return {r.key: [(b.x, b.y, b.w, b.h, b.label, b.ignore) for b in r.boxes] for r in records}


def test_voc_fixture_boxes_and_reports(voc_tree):
    report = Report('t')
    records = read_voc_detection(voc_tree, ClassResolver(), report, show_progress=False)
    boxes = boxes_of(records)
    assert sorted(boxes) == ['a', 'd']
    expected_a = [(x1 - 1, y1 - 1, x2 - x1 + 1, y2 - y1 + 1, n, bool(d))
                  for n, x1, y1, x2, y2, d in OBJ_A]
    assert boxes['a'] == expected_a
    # scallop box 60..80 x 40..60 clipped at the 64x48 border
    n, x1, y1, x2, y2, _ = OBJ_D[0]
    assert boxes['d'] == [(x1 - 1, y1 - 1, 64 - (x1 - 1), 48 - (y1 - 1), n, False)]
    issues = report.issues
    assert any('c.jpg' in m for m in issues['missing_annotation'])
    assert any('b.xml' in m for m in issues['size_mismatch'])
    assert any('f.jpg' in m for m in issues['corrupt_image'])
    assert {Path(m.split(':')[0]).name for m in issues['not_annotation']} == {'notes.txt', 'e.JPG'}
    assert len(issues['clipped_box']) == 1


def test_voc_difficult_becomes_iscrowd(voc_tree):
    report = Report('t')
    records = read_voc_detection(voc_tree, ClassResolver(), report, show_progress=False)
    coco = to_coco(records, ['holothurian', 'scallop', 'urchin'], lambda r: r.key)
    crowd = {a['iscrowd'] for a in coco['annotations'] if a['category_id'] == 1}
    assert crowd == {1} and all(a['iscrowd'] == 0 for a in coco['annotations']
                                if a['category_id'] != 1)
    assert all(img['tasks'] == ['det'] for img in coco['images'])


def test_unknown_class_error_map_and_drop(voc_tree):
    classes = ['holothurian', 'echinus', 'scallop', 'starfish']
    with pytest.raises(DataError, match=r"a\.xml.*unknown class 'urchin'.*--map"):
        read_voc_detection(voc_tree, ClassResolver(classes), Report('t'), show_progress=False)
    mapped = read_voc_detection(voc_tree, ClassResolver(classes, parse_class_map(
        ['urchin=echinus'])), Report('t'), show_progress=False)
    assert Counter(b.label for r in mapped for b in r.boxes) == Counter(
        echinus=1, holothurian=1, scallop=1)
    report = Report('t')
    dropped = read_voc_detection(voc_tree, ClassResolver(classes, drop_unknown=True), report,
                                 show_progress=False)
    assert sum(len(r.boxes) for r in dropped) == 2
    assert len(report.issues['unknown_class']) == 1


def test_keep_unlabelled_has_no_det_task(voc_tree):
    records = read_voc_detection(voc_tree, ClassResolver(), Report('t'), keep_unlabelled=True,
                                 show_progress=False)
    unlabelled = [r for r in records if not r.labelled]
    assert [r.key for r in unlabelled] == ['c'] and unlabelled[0].boxes == []
    coco = to_coco(records, ['holothurian', 'scallop', 'urchin'], lambda r: r.key)
    assert [i['tasks'] for i in coco['images'] if i['file_name'] == 'c'] == [[]]


def test_ruie_utts_real(shared_data):
    report = Report('ruie')
    records = read_voc_detection(shared_data / 'ruie_utts', ClassResolver(), report,
                                 show_progress=False)
    assert len(records) == 299
    counts = Counter(b.label for r in records for b in r.boxes)
    assert counts == Counter(urchin=1060, holothurian=282, scallop=19)
    assert sum(counts.values()) == 1361
    missing = report.issues['missing_annotation']
    assert len(missing) == 1 and 'pic_A/JPEGImages/0316.JPG' in missing[0]
    assert 'excluded' in missing[0]
    assert any('pic_A/Annotations/0316.JPG' in m and 'an image' in m
               for m in report.issues['not_annotation'])
    assert not any(r.key.endswith('0316') for r in records)
    assert not report.issues['corrupt_image']


def test_voc_samples_truncated_reported(shared_data):
    report = Report('voc')
    records = read_voc_detection(shared_data / 'voc_samples', ClassResolver(), report,
                                 show_progress=False)
    corrupt = report.issues['corrupt_image']
    assert len(corrupt) == 2
    assert any('VOC2007/JPEGImages/000001.jpg' in m for m in corrupt)
    assert any('VOC2012/JPEGImages/2007_000027.jpg' in m for m in corrupt)
    keys = {r.key for r in records}
    assert len(records) == 8 and 'VOC2007/000001' not in keys and 'VOC2012/2007_000027' not in keys


def make_yolo(root):
    (root / 'data.yaml').parent.mkdir(parents=True, exist_ok=True)
    (root / 'data.yaml').write_text('names:\n  0: echinus\n  1: starfish\n')
    write_image(root / 'images' / 'train' / 'p.jpg', 100, 50)
    write_image(root / 'images' / 'train' / 'q.png', 40, 40)
    write_image(root / 'images' / 'train' / 'r.jpg', 40, 40)
    (root / 'labels' / 'train').mkdir(parents=True)
    (root / 'labels' / 'train' / 'p.txt').write_text('0 0.5 0.5 0.2 0.4\n1 0.1 0.1 0.2 0.2\n')
    (root / 'labels' / 'train' / 'q.txt').write_text('')
    (root / 'labels' / 'train' / 'zz.txt').write_text('0 0.5 0.5 0.1 0.1\n')
    return root


def test_yolo_reader(tmp_path):
    from mtlunder.data_converters import read_names_file
    root = make_yolo(tmp_path / 'yolo')
    names = read_names_file(root / 'data.yaml')
    assert names == ['echinus', 'starfish']
    report = Report('y')
    records = {r.key: r for r in read_yolo_detection(root, names, ClassResolver(), report,
                                                     show_progress=False)}
    assert sorted(records) == ['train/p', 'train/q']
    p = records['train/p']
    first = p.boxes[0]
    assert (first.x, first.y, first.w, first.h) == pytest.approx(
        ((0.5 - 0.1) * 100, (0.5 - 0.2) * 50, 0.2 * 100, 0.4 * 50))
    assert records['train/q'].labelled and records['train/q'].boxes == []  # empty txt
    assert any('r.jpg' in m for m in report.issues['missing_annotation'])
    assert any('zz.txt' in m for m in report.issues['orphan_annotation'])


def test_coco_validation(tmp_path):
    write_image(tmp_path / 'img' / 'a.jpg', 30, 20)
    coco = dict(images=[dict(id=7, file_name='a.jpg', width=30, height=20)],
                categories=[dict(id=3, name='scallop')],
                annotations=[dict(id=1, image_id=7, category_id=3, bbox=[20, 10, 15, 5],
                                  iscrowd=0)])
    ann = tmp_path / 'a.json'
    ann.write_text(json.dumps(coco))
    report = Report('c')
    records = read_coco_detection(ann, tmp_path / 'img', ClassResolver(), report,
                                  show_progress=False)
    box = records[0].boxes[0]
    assert (box.x, box.y, box.w, box.h) == (20, 10, 10, 5) and report.issues['clipped_box']
    re_indexed = to_coco(records, ['scallop'], lambda r: r.key)
    assert re_indexed['images'][0]['id'] == 1 and re_indexed['annotations'][0]['image_id'] == 1
    coco['annotations'][0]['category_id'] = 9
    ann.write_text(json.dumps(coco))
    with pytest.raises(DataError, match='category_id 9'):
        read_coco_detection(ann, tmp_path / 'img', ClassResolver(), Report('c'),
                            show_progress=False)


def _round_trip(records, classes, root, tmp_path):
    coco = to_coco(records, classes, lambda r: r.path.relative_to(root).as_posix())
    write_yolo(coco, root, tmp_path / 'yolo', show_progress=False)
    back = read_yolo_detection(tmp_path / 'yolo', classes, ClassResolver(), Report('b'),
                               show_progress=False)
    coco_back = to_coco(back, classes, lambda r: r.path.relative_to(
        tmp_path / 'yolo' / 'images').as_posix())
    return coco, coco_back


def assert_same_boxes(coco, coco_back):
    def by_file(c):
        files = {i['id']: i['file_name'] for i in c['images']}
        out = {}
        for a in c['annotations']:
            out.setdefault(files[a['image_id']], []).append((a['category_id'], a['bbox']))
        return {k: sorted(v) for k, v in out.items()}
    a, b = by_file(coco), by_file(coco_back)
    assert a.keys() == b.keys()
    for name in a:
        assert len(a[name]) == len(b[name])
        for (ca, ba), (cb, bb) in zip(a[name], b[name]):
            assert ca == cb and max(abs(x - y) for x, y in zip(ba, bb)) <= 1.0, name


def test_round_trip_fixture(voc_tree, tmp_path):
    records = read_voc_detection(voc_tree, ClassResolver(), Report('r'), show_progress=False)
    coco, back = _round_trip(records, ['holothurian', 'scallop', 'urchin'], voc_tree, tmp_path)
    assert len(coco['annotations']) == len(back['annotations']) == 3
    assert_same_boxes(coco, back)


def test_round_trip_ruie(shared_data, tmp_path):
    root = shared_data / 'ruie_utts'
    resolver = ClassResolver()
    records = read_voc_detection(root, resolver, Report('r'), show_progress=False)
    coco, back = _round_trip(records, resolver.final_classes(), root, tmp_path)
    assert len(back['annotations']) == 1361
    assert_same_boxes(coco, back)


def run_tool(*args):
    return subprocess.run([sys.executable, *args], cwd=PROJECT, capture_output=True, text=True)


def test_cli_convert_detection(voc_tree, tmp_path):
    out = tmp_path / 'out.json'
    proc = run_tool('data_tools/convert_detection.py', 'voc', str(voc_tree), '--out', str(out),
                    '--no-progress')
    assert proc.returncode == 0, proc.stderr
    coco = json.loads(out.read_text())
    assert len(coco['images']) == 2 and len(coco['annotations']) == 3
    assert 'missing_annotation' in proc.stdout and 'c.jpg' in proc.stdout
    bad = tmp_path / 'bad.json'
    proc = run_tool('data_tools/convert_detection.py', 'voc', str(voc_tree), '--out', str(bad),
                    '--classes', 'holothurian,echinus', '--no-progress')
    assert proc.returncode == 2 and "unknown class" in proc.stderr and not bad.exists()
    assert not list(tmp_path.glob('.bad.json*'))


def test_image_whose_every_box_is_invalid_is_no_background_image(tmp_path):
    """xmin > xmax (VOC), a zero-size YOLO box, a negative COCO width: the image had an
    object, so it must not become a detection image with zero boxes (a false negative).
    Boxes of an unknown class dropped by --drop-unknown do leave a real background image."""
    voc = make_voc(tmp_path / 'voc', {'bad': (64, 48, [('echinus', 30, 4, 20, 30, 0)]),
                                      'fish': (64, 48, [('fish', 3, 4, 20, 30, 0)]),
                                      'ok': (64, 48, [('echinus', 3, 4, 20, 30, 0)])})
    resolver = ClassResolver(['echinus'], drop_unknown=True)
    report = Report('v')
    records = {r.key: r for r in read_voc_detection(voc, resolver, report,
                                                    show_progress=False)}
    assert sorted(records) == ['fish', 'ok']
    assert records['fish'].labelled and records['fish'].boxes == []
    assert len(report.issues['no_valid_box']) == 1 and 'bad.xml' in report.issues['no_valid_box'][0]
    assert report.counts['images whose every box was invalid (no det label)'] == 1
    kept = {r.key: r for r in read_voc_detection(voc, resolver, Report('v'), keep_unlabelled=True,
                                                 show_progress=False)}
    assert not kept['bad'].labelled and kept['bad'].boxes == []
    assert to_coco([kept['bad']], ['echinus'], lambda r: r.key)['images'][0]['tasks'] == []

    root = make_yolo(tmp_path / 'yolo')
    (root / 'labels' / 'train' / 'q.txt').write_text('0 0.5 0.5 0.0 0.2\n')
    report = Report('y')
    records = {r.key: r for r in read_yolo_detection(root, ['echinus', 'starfish'],
                                                     ClassResolver(), report,
                                                     show_progress=False)}
    assert sorted(records) == ['train/p'] and 'q.txt' in report.issues['no_valid_box'][0]

    write_image(tmp_path / 'img' / 'a.jpg', 30, 20)
    write_image(tmp_path / 'img' / 'b.jpg', 30, 20)
    coco = dict(images=[dict(id=1, file_name='a.jpg', width=30, height=20),
                        dict(id=2, file_name='b.jpg', width=30, height=20)],
                categories=[dict(id=3, name='scallop')],
                annotations=[dict(id=1, image_id=1, category_id=3, bbox=[5, 5, -4, 5])])
    (tmp_path / 'a.json').write_text(json.dumps(coco))
    report = Report('c')
    records = read_coco_detection(tmp_path / 'a.json', tmp_path / 'img', ClassResolver(),
                                  report, show_progress=False)
    assert [(r.key, r.labelled) for r in records] == [('b', True)]  # b: a real background
    assert 'a.jpg' in report.issues['no_valid_box'][0]

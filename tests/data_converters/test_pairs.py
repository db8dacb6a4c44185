import numpy as np
import pytest

from mtlunder.data_converters import DataError, Report, find_pair_folders, read_pairs

from .builders import make_pairs, write_truncated_jpeg


def test_lsui_and_euvp_real(shared_data):
    lsui = read_pairs(shared_data / 'lsui_pairs', Report('lsui'), show_progress=False)
    euvp = read_pairs(shared_data / 'euvp_pairs', Report('euvp'), show_progress=False)
    assert len(lsui) == 108 and len(euvp) == 23
    assert all(p.input_path.stem == p.reference_path.stem == p.key for p in lsui + euvp)
    assert {(p.width, p.height) for p in euvp} == {(256, 256)}


@pytest.fixture
def uieb(tmp_path):
    root = make_pairs(tmp_path / 'uieb', 'raw-890', 'reference-890', {
        '1': ((40, 30), (40, 30)), '2': ((40, 30), (20, 15)), '3': ((40, 30), None),
        '4': (None, (40, 30)), '5': ((32, 32), (32, 32))})
    write_truncated_jpeg(root / 'raw-890' / '6.jpg')
    make_pairs(root, 'raw-890', 'reference-890', {'6': (None, (64, 48))})
    return root


def test_uieb_matching_and_reports(uieb):
    report = Report('uieb')
    pairs = read_pairs(uieb, report, show_progress=False)
    assert [p.key for p in pairs] == ['1', '5']
    assert {m.split(':')[0].split('/')[-1] for m in report.issues['unmatched']} == \
        {'3.jpg', '4.png'}
    assert any('2.jpg' in m for m in report.issues['size_mismatch'])
    assert any('6.jpg' in m for m in report.issues['corrupt_image'])


def test_resize_reference_opt_in(uieb):
    report = Report('uieb')
    pairs = {p.key: p for p in read_pairs(uieb, report, resize_reference=True,
                                          show_progress=False)}
    assert pairs['2'].resize_reference and not pairs['1'].resize_reference
    assert (pairs['2'].width, pairs['2'].height) == (40, 30)
    assert len(report.issues['resized_reference']) == 1


def test_layouts(tmp_path):
    make_pairs(tmp_path / 'euvp' / 'underwater_dark', 'trainA', 'trainB', {'x': ((8, 8), (8, 8))})
    make_pairs(tmp_path / 'euvp' / 'underwater_scenes', 'trainA', 'trainB',
               {'x': ((8, 8), (8, 8))})
    make_pairs(tmp_path / 'lsui', 'input', 'GT', {'y': ((8, 8), (8, 8))})
    keys = [p.key for p in read_pairs(tmp_path / 'euvp', Report('e'), 'euvp',
                                      show_progress=False)]
    assert keys == ['underwater_dark/x', 'underwater_scenes/x']
    assert [d.name for d, _ in find_pair_folders(tmp_path / 'lsui')] == ['input']
    with pytest.raises(DataError, match='no input/reference folders'):
        find_pair_folders(tmp_path / 'lsui', 'uieb')
    assert np.all([p.reference_path.parent.name == 'GT'
                   for p in read_pairs(tmp_path / 'lsui', Report('l'), show_progress=False)])

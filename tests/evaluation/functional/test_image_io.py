"""read_rgb: the one image reader of the image-quality metrics."""
import numpy as np
import pytest
import torch

from mtlunder.evaluation.functional import read_rgb


def test_reads_rgb_channels_first_in_0_255(tmp_path):
    import cv2

    rgb = np.zeros((5, 7, 3), dtype=np.uint8)
    rgb[..., 0], rgb[..., 1], rgb[..., 2] = 200, 100, 7    # R, G, B
    path = tmp_path / 'img.png'
    cv2.imwrite(str(path), rgb[..., ::-1])                  # cv2 writes BGR
    img = read_rgb(str(path))
    assert img.dtype == torch.float64 and img.shape == (3, 5, 7)
    assert img[:, 2, 3].tolist() == [200.0, 100.0, 7.0]


def test_missing_and_undecodable_files_name_the_file_and_the_reader(tmp_path):
    with pytest.raises(FileNotFoundError, match=r'^SomeMetric: image file not found: .*nope\.png'):
        read_rgb(str(tmp_path / 'nope.png'), owner='SomeMetric')
    bad = tmp_path / 'bad.png'
    bad.write_bytes(b'not an image at all')
    with pytest.raises(ValueError, match=r'^SomeMetric: cannot decode image .*bad\.png'):
        read_rgb(str(bad), owner='SomeMetric')


def test_truncated_jpeg_raises_instead_of_decoding_grey(tmp_path):
    import cv2

    rng = np.random.default_rng(0)
    ok, jpeg = cv2.imencode('.jpg', rng.integers(0, 255, (64, 64, 3), dtype=np.uint8))
    assert ok
    cut = tmp_path / 'cut.jpg'
    cut.write_bytes(jpeg.tobytes()[:len(jpeg) // 2])
    with pytest.raises(ValueError, match='cut.jpg'):
        read_rgb(str(cut), owner='EnhancementMetric')

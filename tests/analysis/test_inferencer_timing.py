"""The inferencer benchmark's modes and frame counts (its timings are measured, not
tested)."""
from argparse import Namespace

from mtlunder.analysis.inferencer_timing import DEMO, make_frames, time_config


def test_every_mode_is_timed_per_frame_with_dense_boxes(tmp_path, single_thread):
    frames, jpgs, video = make_frames(str(tmp_path / 'in'), 2, (64, 96))
    assert len(frames) == 2 and frames[0].shape == (64, 96, 3)
    args = Namespace(checkpoint=None, score_thr=0.0, dense_boxes=True, batch_size=1,
                     inputs=True, repeats=1)
    boxes, rows = time_config(DEMO, args, frames, jpgs, video, str(tmp_path / 'out'))
    assert boxes > 0                       # --dense-boxes: every frame keeps boxes
    assert [(mode, written) for mode, written, _ in rows] == [
        ('forward only (pipeline + test_step)', '-'), ('BGR arrays', 'no'),
        ('BGR arrays', 'every task + vis + JSON'), ('JPEG folder', 'no'),
        ('JPEG folder', 'every task + vis + JSON'), ('mp4 video', 'no'),
        ('mp4 video', 'annotated mp4 + JSON')]
    assert all(len(t) == 1 and t[0] > 0 for _, _, t in rows)
    assert (tmp_path / 'out' / 'preds').is_dir()

"""MultiTaskLocalVisualizer: one picture of every task a multi-task data sample holds."""
from typing import List, Optional, Tuple

import numpy as np
from mmdet.visualization import DetLocalVisualizer

from mtlunder.registry import VISUALIZERS
from mtlunder.structures import TASK_SPECS

#: grey level of a panel whose task has no label / no prediction in the sample
_EMPTY = 96
#: black gap between panels and rows, pixels
_GAP = 4


def is_probability_map(spec, sample) -> bool:
    """Whether the ``label_map`` task ``spec`` of ``sample`` is a two-class map drawn in grey
    levels (edges, saliency: the head predicts a float probability in [0, 1]) rather than a
    class-index map drawn in class colours. Without a prediction, a label with no value
    above 1 (ignore value aside) counts as two-class."""
    pred = sample.get(spec.pred_field)
    if pred is not None:
        return bool(pred.data.is_floating_point())
    label = sample.get(spec.gt_field).data
    if spec.ignore_value is not None:
        label = label[label != spec.ignore_value]
    return label.numel() == 0 or float(label.max()) <= 1


def map_array(data, spec) -> np.ndarray:
    """A dense task's [C, H, W] tensor as numpy: [H, W, 3] for unit-vector maps, else
    [H, W] (float for probabilities and depth, int64 for class indices)."""
    arr = data.detach().cpu().numpy()
    return arr.transpose(1, 2, 0) if spec.kind == 'unit_vector_map' else arr[0]


@VISUALIZERS.register_module()
class MultiTaskLocalVisualizer(DetLocalVisualizer):
    """mmdet's ``DetLocalVisualizer`` for :class:`MultiTaskDataSample`: one column per task
    that the sample holds (table order of :data:`TASK_SPECS`), a ground-truth row above a
    prediction row.

    Panels by label kind: ``boxes`` on the input (mmdet's drawing, ``dataset_meta``
    classes and palette), ``image`` the enhanced / reference image, ``label_map`` class
    colours blended over the input (two-class probability maps in grey, see
    :func:`is_probability_map`), ``continuous_map`` viridis over the label's 1st-99th
    percentile (the prediction's when there is no label), ``unit_vector_map`` as RGB.
    A sample without a box task gets a plain ``input`` column first. Every panel has the
    input's size [H, W]; the picture is [rows H + 4 (rows - 1), cols W + 4 (cols - 1), 3].
    """

    def add_datasample(self, name: str, image: np.ndarray, data_sample=None,
                       draw_gt: bool = True, draw_pred: bool = True, show: bool = False,
                       wait_time: float = 0, out_file: Optional[str] = None,
                       pred_score_thr: float = 0.3, step: int = 0) -> None:
        """Draw ``data_sample`` on ``image`` (RGB uint8 [H, W, 3], original size).

        ``out_file``: written atomically (BGR, by its extension); else the picture goes to
        the visualizer's backends like mmdet's. :meth:`get_image` returns it (RGB).
        """
        image = image.clip(0, 255).astype(np.uint8)
        drawn = self.draw_sample(image, data_sample, draw_gt, draw_pred, pred_score_thr)
        self.set_image(drawn)
        if show:
            self.show(drawn, win_name=name, wait_time=wait_time)
        if out_file is not None:
            from mtlunder.fileio import atomic_imwrite

            atomic_imwrite(out_file, np.ascontiguousarray(drawn[..., ::-1]))
        else:
            self.add_image(name, drawn, step)

    def draw_sample(self, image: np.ndarray, sample, draw_gt: bool = True,
                    draw_pred: bool = True, pred_score_thr: float = 0.3) -> np.ndarray:
        """The picture of :meth:`add_datasample` as RGB uint8 (``image`` alone when the
        sample holds nothing to draw)."""
        if sample is None:
            return image
        labelled = sample.metainfo.get('tasks')
        gt_tasks = [s for s in TASK_SPECS.values() if draw_gt and s.gt_field in sample
                    and (labelled is None or s.name in labelled)]
        pred_tasks = [s for s in TASK_SPECS.values() if draw_pred and s.pred_field in sample]
        columns = [s for s in TASK_SPECS.values() if s in gt_tasks or s in pred_tasks]
        if not columns:
            return image
        rows = []
        for kind, tasks in (('gt', gt_tasks), ('pred', pred_tasks)):
            if not tasks:
                continue
            panels = [] if columns[0].kind == 'boxes' else [(image, 'input')]
            for spec in columns:
                if spec in tasks:
                    panels.append((self._panel(image, sample, spec, kind, pred_score_thr),
                                   f'{kind} {spec.name}'))
                else:
                    panels.append((np.full_like(image, _EMPTY), f'no {kind} {spec.name}'))
            rows.append(_row(panels))
        gap = np.zeros((_GAP, rows[0].shape[1], 3), np.uint8)
        return np.concatenate([part for r in rows for part in (r, gap)][:-1], axis=0)

    def _panel(self, image: np.ndarray, sample, spec, kind: str,
               pred_score_thr: float) -> np.ndarray:
        """One task's ground truth (``kind='gt'``) or prediction as RGB uint8 [H, W, 3]."""
        from mmengine.structures import InstanceData

        from .maps import dense_map_picture, map_range

        value = sample.get(spec.gt_field if kind == 'gt' else spec.pred_field)
        if spec.kind == 'boxes':
            instances = value
            if kind == 'pred':
                instances = value[value.scores >= pred_score_thr]
            if len(instances) == 0:
                return image.copy()
            boxes = getattr(instances.bboxes, 'tensor', instances.bboxes)
            instances = InstanceData(bboxes=boxes.float(), labels=instances.labels,
                                     **({'scores': instances.scores}
                                        if 'scores' in instances else {}))
            return self._draw_instances(image, instances, self.dataset_meta.get('classes'),
                                        self.dataset_meta.get('palette'))
        data = value.data.detach().float().cpu()
        if spec.kind == 'image':
            # pred_clean: RGB in [0, 1]; gt_clean: 0-255 in the input's (BGR) channel order
            rgb = data.clamp(0, 1) * 255 if kind == 'pred' else data.flip(0).clamp(0, 255)
            return rgb.round().byte().numpy().transpose(1, 2, 0).copy()
        arr = map_array(value.data, spec)
        if spec.kind == 'continuous_map':
            gt = sample.get(spec.gt_field)
            scale = map_range(map_array(gt.data, spec)) if gt is not None else map_range(arr)
            return _fit(dense_map_picture(arr, spec.kind, value_range=scale)[..., ::-1], image)
        if spec.kind == 'label_map' and not is_probability_map(spec, sample):
            return class_overlay(image, arr, spec.ignore_value)
        binary = spec.kind == 'label_map'
        return _fit(dense_map_picture(arr, spec.kind, spec.ignore_value, grey=binary)[..., ::-1],
                    image)


def class_overlay(image: np.ndarray, label: np.ndarray,
                  ignore_value: Optional[int] = None, alpha: float = 0.5) -> np.ndarray:
    """Class colours of ``label`` (indices [H', W']) blended over ``image`` (RGB uint8
    [H, W, 3]) with weight ``alpha``; ignored pixels keep the image. RGB uint8 [H, W, 3]."""
    from .maps import dense_map_picture

    colours = _fit(dense_map_picture(label, 'label_map', ignore_value)[..., ::-1], image)
    out = ((1 - alpha) * image + alpha * colours).astype(np.uint8)
    if ignore_value is not None:
        ignored = _fit(label == ignore_value, image)
        out[ignored] = image[ignored]
    return out


def _fit(panel: np.ndarray, image: np.ndarray) -> np.ndarray:
    """``panel`` ([H', W'] or [H', W', 3]) resized (nearest) to ``image``'s [H, W]."""
    import cv2

    h, w = image.shape[:2]
    if panel.shape[:2] == (h, w):
        return np.ascontiguousarray(panel)
    resized = cv2.resize(panel.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST)
    return resized.astype(bool) if panel.dtype == bool else resized


def _row(panels: List[Tuple[np.ndarray, str]]) -> np.ndarray:
    """Titled RGB panels of one size side by side with black gaps: [H, n W + 4 (n - 1), 3]."""
    import cv2

    h = panels[0][0].shape[0]
    out = []
    for panel, title in panels:
        panel = np.ascontiguousarray(panel).copy()
        for colour, width in (((0, 0, 0), 3), ((255, 255, 255), 1)):  # outlined text
            cv2.putText(panel, title, (4, h - 6), cv2.FONT_HERSHEY_SIMPLEX, 0.4, colour,
                        width, cv2.LINE_AA)
        out += [panel, np.zeros((h, _GAP, 3), np.uint8)]
    return np.concatenate(out[:-1], axis=1)

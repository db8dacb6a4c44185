"""Data samples of the dense metrics' tests, as mmengine passes them to ``process``."""
import torch

from mtlunder.structures.task_specs import TASK_SPECS

#: where the dense metrics get their logger (patched to read the logged lines)
LOGGER = 'mtlunder.evaluation.metrics.base_dense_metric.MMLogger.get_current_instance'


def sample(task, pred, gt, tasks=None, img_path='img.png'):
    """A data sample as mmengine passes it to ``process`` (``to_dict()``)."""
    spec = TASK_SPECS[task]
    out = dict(img_path=img_path)
    if tasks is not None:
        out['tasks'] = tuple(tasks)
    if pred is not None:
        out[spec.pred_field] = dict(data=torch.as_tensor(pred))
    if gt is not None:
        out[spec.gt_field] = dict(data=torch.as_tensor(gt))
    return out


def evaluate(metric, samples):
    metric.process({}, samples)
    return metric.evaluate(len(samples))

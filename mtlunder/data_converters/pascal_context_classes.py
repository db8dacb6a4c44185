"""The 59-class subset of PASCAL-Context (Mottaghi et al., CVPR 2014), as data.

Source convention: ``pascal-context/trainval/<id>.mat`` ``LabelMap`` (PASCAL_MT tarball of
ASTMT, or the PASCAL-Context release's ``trainval/``) holds, per pixel, a 1-based index into
the 459 names of the release's ``labels.txt``; 0 = unlabelled. The standard 59-class subset
is :data:`CONTEXT59` below (``labels.txt`` index -> name, in the alphabetical order of
mmseg's ``PascalContextDataset59`` and of the release's ``59_labels.txt``).

Convention of the converted labels (``convert_pascal_context(seg_source='context59')``):
60 classes, :data:`CONTEXT59_CLASSES`: 0 = ``background`` (the 400 other classes and the
unlabelled pixels), 1..59 = the 59 classes in :data:`CONTEXT59` order. Background is a
class that is trained and scored, as in the 60-class PASCAL-Context benchmark and as the
multi-task literature treats background in its 21-class PASCAL-Context semseg
(``docs/pascal_context.md``).

The mapping is an explicit lookup table (:func:`context59_lut`): every index that is not
one of the 59 goes to background. (Public code that maps with ``np.digitize`` over the
sorted list of the 59 indices sends an unlisted index to a neighbouring class instead.)
"""
import numpy as np

#: Number of names in ``labels.txt``; LabelMap values lie in ``0..NUM_CONTEXT_LABELS``.
NUM_CONTEXT_LABELS = 459

#: ``labels.txt`` index -> class name of the 59 classes, alphabetical.
CONTEXT59 = (
    (2, 'aeroplane'), (9, 'bag'), (18, 'bed'), (19, 'bedclothes'), (22, 'bench'),
    (23, 'bicycle'), (25, 'bird'), (31, 'boat'), (33, 'book'), (34, 'bottle'),
    (44, 'building'), (45, 'bus'), (46, 'cabinet'), (59, 'car'), (65, 'cat'),
    (68, 'ceiling'), (72, 'chair'), (80, 'cloth'), (85, 'computer'), (98, 'cow'),
    (104, 'cup'), (105, 'curtain'), (113, 'dog'), (115, 'door'), (144, 'fence'),
    (158, 'floor'), (159, 'flower'), (162, 'food'), (187, 'grass'), (189, 'ground'),
    (207, 'horse'), (220, 'keyboard'), (232, 'light'), (258, 'motorbike'), (259, 'mountain'),
    (260, 'mouse'), (284, 'person'), (295, 'plate'), (296, 'platform'), (308, 'pottedplant'),
    (324, 'road'), (326, 'rock'), (347, 'sheep'), (349, 'shelves'), (354, 'sidewalk'),
    (355, 'sign'), (360, 'sky'), (366, 'snow'), (368, 'sofa'), (397, 'table'),
    (415, 'track'), (416, 'train'), (420, 'tree'), (424, 'truck'), (427, 'tvmonitor'),
    (440, 'wall'), (445, 'water'), (454, 'window'), (458, 'wood'),
)

#: Names of the 60 converted classes: index 0 = background, then the 59.
CONTEXT59_CLASSES = ('background', ) + tuple(name for _, name in CONTEXT59)


def context59_lut() -> np.ndarray:
    """int64 [NUM_CONTEXT_LABELS + 1]: LabelMap value -> class of :data:`CONTEXT59_CLASSES`
    (0 for every value not in :data:`CONTEXT59`, including 0 = unlabelled)."""
    lut = np.zeros(NUM_CONTEXT_LABELS + 1, np.int64)
    for cls, (label_id, _) in enumerate(CONTEXT59, start=1):
        lut[label_id] = cls
    return lut

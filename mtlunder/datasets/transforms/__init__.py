from .affine import PairedRandomScaleRotate
from .formatting import PackMultiTaskInputs
from .geometric import PairedPad, PairedRandomCrop, PairedRandomFlip, PairedResize
from .loading import LoadDenseAnnotations, LoadReferenceImage
from .photometric import RandomWaterCast

__all__ = [
    'LoadReferenceImage', 'LoadDenseAnnotations', 'PairedResize', 'PairedRandomFlip',
    'PairedRandomCrop', 'PairedPad', 'PairedRandomScaleRotate', 'RandomWaterCast',
    'PackMultiTaskInputs'
]

from .formatting import PackMultiTaskInputs
from .geometric import PairedPad, PairedRandomCrop, PairedRandomFlip, PairedResize
from .loading import LoadReferenceImage
from .photometric import RandomWaterCast

__all__ = [
    'LoadReferenceImage', 'PairedResize', 'PairedRandomFlip', 'PairedRandomCrop', 'PairedPad',
    'RandomWaterCast', 'PackMultiTaskInputs'
]

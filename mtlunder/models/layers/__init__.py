from .squad_block import SquadBlock

__all__ = ['SquadBlock']
from .etr_nlp import ETRBlock, NLPLayer, NLPPrimitives, NLPRecombination  # noqa: E402

__all__ += ['ETRBlock', 'NLPLayer', 'NLPPrimitives', 'NLPRecombination']

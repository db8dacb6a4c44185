"""Paired enhancement sources: folders of degraded inputs and clean references.

Layouts recognised (folder names, input / reference, searched under the root):
UIEB ``raw-890 / reference-890``; LSUI ``input / GT``; EUVP ``trainA / trainB``,
``Inp / GTr``, ``A / GTr_A``, ``input / GTr``; generic ``input / reference``.
Pairs are matched by file stem; unmatched names are reported; a size mismatch is reported
and the pair skipped unless ``resize_reference`` (then the reference is resized to the
input when written).
"""
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Tuple

from .io import DataError, image_size, is_image_file, progress
from .report import Report

PAIR_LAYOUTS: Dict[str, Tuple[Tuple[str, str], ...]] = dict(
    uieb=(('raw-890', 'reference-890'),),
    lsui=(('input', 'GT'),),
    euvp=(('trainA', 'trainB'), ('Inp', 'GTr'), ('A', 'GTr_A'), ('input', 'GTr')),
    generic=(('input', 'reference'),),
)


@dataclass
class PairSample:
    """A matched pair; ``key`` is ``<subset>/<stem>`` (or ``<stem>`` at the root)."""
    key: str
    input_path: Path
    reference_path: Path
    width: int
    height: int
    resize_reference: bool = False


def find_pair_folders(root: Path, layout: str = 'auto') -> List[Tuple[Path, Path]]:
    """(input_dir, reference_dir) pairs under ``root`` for ``layout`` (or every layout)."""
    root = Path(root)
    if not root.is_dir():
        raise DataError(f'{root}: dataset folder not found')
    if layout != 'auto' and layout not in PAIR_LAYOUTS:
        raise ValueError(f'unknown pair layout {layout!r}; expected auto or {list(PAIR_LAYOUTS)}')
    names = [p for key, pairs in PAIR_LAYOUTS.items() if layout in ('auto', key) for p in pairs]
    found = []
    for folder in sorted([root] + [p for p in root.rglob('*') if p.is_dir()]):
        for inp, ref in names:
            if (folder / inp).is_dir() and (folder / ref).is_dir():
                found.append((folder / inp, folder / ref))
    if not found:
        raise DataError(f'{root}: no input/reference folders of layout {layout!r} '
                        f'(expected one of {names})')
    return found


def _stems(folder: Path, report: Report) -> Dict[str, Path]:
    stems = {}
    for p in sorted(folder.iterdir()):
        if not p.is_file():
            continue
        if not is_image_file(p):
            report.add('not_image', f'{p}: not an image file; ignored')
        elif p.stem in stems:
            report.add('duplicate_stem', f'{p}: same stem as {stems[p.stem].name}; ignored')
        else:
            stems[p.stem] = p
    return stems


def read_pairs(root: Path, report: Report, layout: str = 'auto',
               resize_reference: bool = False, show_progress: bool = True) -> List[PairSample]:
    """Match input/reference pairs of every pair folder under ``root``.

    Returns:
        Pairs sorted by key. Corrupt images, unmatched names and size mismatches are
        reported (each naming its file) and skipped.
    """
    root = Path(root)
    samples = []
    for inp_dir, ref_dir in find_pair_folders(root, layout):
        subset = inp_dir.parent.relative_to(root).as_posix()
        inputs, refs = _stems(inp_dir, report), _stems(ref_dir, report)
        for stem in sorted(set(inputs) - set(refs)):
            report.add('unmatched', f'{inputs[stem]}: no reference with stem {stem!r} in '
                       f'{ref_dir}; skipped')
        for stem in sorted(set(refs) - set(inputs)):
            report.add('unmatched', f'{refs[stem]}: no input with stem {stem!r} in '
                       f'{inp_dir}; skipped')
        common = sorted(set(inputs) & set(refs))
        for stem in progress(common, desc=f'pairs {inp_dir.parent.name}',
                             enabled=show_progress):
            try:
                in_size = image_size(inputs[stem])
                ref_size = image_size(refs[stem])
            except DataError as err:
                report.add('corrupt_image', f'{err}; pair skipped')
                continue
            needs_resize = in_size != ref_size
            if needs_resize:
                msg = (f'{inputs[stem]}: input {in_size[0]}x{in_size[1]} != reference '
                       f'{refs[stem].name} {ref_size[0]}x{ref_size[1]}')
                if not resize_reference:
                    report.add('size_mismatch', f'{msg}; pair skipped (--resize-reference '
                               'resizes the reference)')
                    continue
                report.add('resized_reference', f'{msg}; reference resized')
            key = stem if subset == '.' else f'{subset}/{stem}'
            samples.append(PairSample(key, inputs[stem], refs[stem], in_size[0], in_size[1],
                                      needs_resize))
    samples.sort(key=lambda s: s.key)
    report.count('pairs', len(samples))
    return samples

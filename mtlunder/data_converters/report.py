"""Problem report and summary tables printed at the end of every data tool."""
from collections import Counter, defaultdict
from typing import Dict, List, Sequence

#: Issue kinds that make a checker fail (exit status 1); the rest are logged skips.
ERROR_KINDS = ('error',)


class Report:
    """Per-file problems grouped by kind, plus free counters.

    Args:
        title: heading of the summary.

    ``issues[kind]`` holds one message per problem, each naming its file. Kinds used by the
    converters: ``missing_annotation``, ``not_annotation``, ``orphan_annotation``,
    ``corrupt_image``, ``size_mismatch``, ``unknown_class``, ``invalid_box``,
    ``clipped_box``, ``unmatched``, ``resized_reference``, ``error`` (checker failures).
    """

    def __init__(self, title: str):
        self.title = title
        self.issues: Dict[str, List[str]] = defaultdict(list)
        self.counts: Counter = Counter()
        self.tables = ''

    def add(self, kind: str, message: str) -> None:
        self.issues[kind].append(message)

    def count(self, key: str, n: int = 1) -> None:
        self.counts[key] += n

    def merge(self, other: 'Report') -> None:
        for kind, messages in other.issues.items():
            self.issues[kind].extend(messages)
        self.counts.update(other.counts)

    @property
    def num_errors(self) -> int:
        return sum(len(self.issues.get(kind, ())) for kind in ERROR_KINDS)

    def summary(self, max_listed: int = 20) -> str:
        lines = [f'== {self.title}']
        if self.tables:
            lines.append(self.tables)
        for key, value in sorted(self.counts.items()):
            lines.append(f'  {key}: {value}')
        for kind in sorted(self.issues):
            messages = self.issues[kind]
            lines.append(f'  [{kind}] {len(messages)}')
            lines.extend(f'    - {m}' for m in messages[:max_listed])
            if len(messages) > max_listed:
                lines.append(f'    ... and {len(messages) - max_listed} more')
        return '\n'.join(lines)

    def to_dict(self) -> dict:
        return dict(title=self.title, counts=dict(self.counts),
                    issues={k: list(v) for k, v in self.issues.items()})


def format_table(headers: Sequence[str], rows: Sequence[Sequence]) -> str:
    """Plain-text table with right-aligned numbers."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    out = []
    for n, row in enumerate(cells):
        out.append('  '.join(c.rjust(w) if n and c.replace('.', '').isdigit() else c.ljust(w)
                             for c, w in zip(row, widths)).rstrip())
        if n == 0:
            out.append('  '.join('-' * w for w in widths))
    return '\n'.join(out)

"""Distinct reasoning paths of one question: one representative per equation list.

The rule (docs/verification.md has the full semantics): within one pool of one question,
each equation-list group has an anchor, its member with the smallest `path_id`; a path's
diversity score is the sum of Levenshtein distances from its text to the anchors of the other
groups; each group's representative is its highest-scoring member, ties to the smallest
`path_id`. Nothing depends on the order of the input.

Distances are computed once per distinct text, against all anchors at once, with rapidfuzz's
bit-parallel Levenshtein (the same distance as the textbook dynamic programme, orders of
magnitude faster on paragraph-long texts).
"""

from dataclasses import dataclass

import numpy as np
from rapidfuzz.distance import Levenshtein
from rapidfuzz.process import cdist


@dataclass(frozen=True)
class Group:
    """One distinct equation list of a question in a pool, with its chosen representative."""

    equation_list: str
    representative: int  # index into the input lists
    diversity_score: int
    members: tuple[int, ...]  # indices of every path with this list, in input order


def diversity_scores(group_of: np.ndarray, anchor_of_group: np.ndarray, texts: list[str]) -> np.ndarray:
    """Each path's summed distance to the anchors of the groups other than its own."""
    if len(anchor_of_group) < 2:
        return np.zeros(len(texts), dtype=np.int64)
    distinct_texts, text_index = np.unique(np.asarray(texts, dtype=object), return_inverse=True)
    anchor_texts = [texts[i] for i in anchor_of_group]
    distances = cdist(list(distinct_texts), anchor_texts, scorer=Levenshtein.distance, dtype=np.int64, workers=1)
    to_all_anchors = distances.sum(axis=1)[text_index]
    to_own_anchor = distances[text_index, group_of]
    return to_all_anchors - to_own_anchor


def representatives(path_ids: list[str], equation_lists: list[str], texts: list[str]) -> list[Group]:
    """The groups of one question's correct paths in one pool, sorted by equation list."""
    if not path_ids:
        return []
    keys, group_of = np.unique(np.asarray(equation_lists, dtype=object), return_inverse=True)
    ids = np.asarray(path_ids, dtype=object)
    # Sorting by (group, path_id) puts each group's anchor first.
    by_group_then_id = np.lexsort((ids, group_of))
    starts = np.flatnonzero(np.r_[True, np.diff(group_of[by_group_then_id]) != 0])
    anchor_of_group = by_group_then_id[starts]
    scores = diversity_scores(group_of, anchor_of_group, texts)
    # Best first within each group: highest score, then smallest path_id.
    best_first = np.lexsort((ids, -scores, group_of))
    best_starts = np.flatnonzero(np.r_[True, np.diff(group_of[best_first]) != 0])
    groups = []
    for g, start in enumerate(best_starts):
        end = best_starts[g + 1] if g + 1 < len(best_starts) else len(best_first)
        chosen = int(best_first[start])
        members = tuple(sorted(int(i) for i in best_first[start:end]))
        groups.append(Group(str(keys[g]), chosen, int(scores[chosen]), members))
    return groups

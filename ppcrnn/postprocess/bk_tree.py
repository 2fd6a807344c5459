"""A BK-tree: finds all words within an edit distance of a query without scanning the whole list."""
from __future__ import annotations

from typing import Dict, List, Sequence

from rapidfuzz.distance import Levenshtein


class BKTree:
    """Burkhard-Keller tree over `words` with Levenshtein distance (rapidfuzz).

    Each node keeps its children keyed by their distance to it; by the triangle inequality a query
    at distance d from a node only needs the children keyed d - radius .. d + radius.
    `search(query, radius)` returns the indices into `words` of all words within `radius`."""

    def __init__(self, words: Sequence[str]):
        self.words = list(words)
        # Node i is word i; children[i] maps a distance to the child node with that distance.
        self.children: List[Dict[int, int]] = [dict() for _ in self.words]
        for index in range(1, len(self.words)):
            self._insert(index)

    def _insert(self, index: int) -> None:
        node, word = 0, self.words[index]
        while True:
            distance = Levenshtein.distance(word, self.words[node])
            child = self.children[node].get(distance)
            if child is None:
                self.children[node][distance] = index
                return
            node = child

    def search(self, query: str, radius: int) -> List[int]:
        if not self.words:
            return []
        found, pending = [], [0]
        while pending:
            node = pending.pop()
            distance = Levenshtein.distance(query, self.words[node])
            if distance <= radius:
                found.append(node)
            for key, child in self.children[node].items():
                if distance - radius <= key <= distance + radius:
                    pending.append(child)
        return sorted(found)

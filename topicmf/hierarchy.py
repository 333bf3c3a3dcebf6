"""Which topics belong together: average-linkage agglomerative clustering of the topics' term
distributions by their Jensen-Shannon distances (the distances of the report's intertopic map).

    from topicmf.hierarchy import topic_hierarchy
    tree = topic_hierarchy(result)       # or result.topic_hierarchy()
    tree.groups(3)                       # the topics in 3 groups: [[0, 4], [1, 2, 5], [3]]

A user who asked for too many topics sees which are near-duplicates: topics joined low in the
tree share most of their words. The report draws the tree as a dendrogram.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validation import check_int

__all__ = ["TopicHierarchy", "topic_hierarchy", "hierarchy_from_distances"]


@dataclass
class TopicHierarchy:
    """``merges``: scipy's linkage matrix ((K - 1) x 4: the two clusters joined, their
    distance, the topics under them); ``order``: the topics left to right in the dendrogram;
    ``distances``: K x K Jensen-Shannon distances (bits, in [0, 1])."""

    merges: np.ndarray
    order: list[int]
    distances: np.ndarray

    @property
    def n_topics(self) -> int:
        return len(self.distances)

    def groups(self, n: int) -> list[list[int]]:
        """The topics cut into ``n`` groups, each sorted, in the order of their first topic."""
        from scipy.cluster.hierarchy import fcluster

        n = check_int(n, "n", low=1, high=self.n_topics, owner="groups")
        if self.n_topics == 1:
            return [[0]]
        cluster = fcluster(self.merges, t=n, criterion="maxclust")
        found = {}
        for topic, c in enumerate(cluster.tolist()):
            found.setdefault(c, []).append(topic)
        return sorted(found.values(), key=lambda group: group[0])


def hierarchy_from_distances(distances) -> TopicHierarchy:
    """The tree of topics whose pairwise distances are ``distances`` (square, symmetric)."""
    from scipy.cluster.hierarchy import leaves_list, linkage
    from scipy.spatial.distance import squareform

    distances = np.asarray(distances, dtype=np.float64)
    if len(distances) < 2:
        return TopicHierarchy(np.zeros((0, 4)), list(range(len(distances))), distances)
    condensed = squareform(distances, checks=False)
    merges = linkage(condensed, method="average")
    return TopicHierarchy(merges, leaves_list(merges).tolist(), distances)


def topic_hierarchy(result) -> TopicHierarchy:
    """The tree of ``result``'s topics (a TopicResult): their term distributions as the report
    shows them, clustered by Jensen-Shannon distance with average linkage."""
    from .report.data import _intertopic, _topic_term_distributions

    topic_term = _topic_term_distributions(result.model.components_)
    return hierarchy_from_distances(_intertopic(topic_term)["distances"])

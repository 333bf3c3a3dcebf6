"""Guided topics: seed words that pull chosen topics towards them, for NMF and PLSA.

Each seeded topic z gets a pseudo-document t_z made of its seed words only, in equal parts,
whose topic weights are fixed to topic z alone, and which counts as ``strength`` times an
average topic's share of the corpus (its documents). The fit then minimizes its usual
objective plus a penalty on the seed words' entries of the seeded topics: they are pulled
up towards t_z, softly (a seed word the corpus does not support stays low), while the
topic's other words and the other topics stay free. The pseudo-documents touch only H's
update, after the blocks' sums are added, so the engine shape (blocks, combine, global
step) is unchanged.

- Frobenius: penalty rho/2 sum_z sum_{w in S_z} (t_zw - c_z h_zw)^2, t_z with the RMS norm
  of X's rows and c_z = ||t_z|| / ||h_z|| at the start (the weight of a document wholly in
  topic z); its gradient joins the multiplicative update of those entries.
- Kullback-Leibler: penalty rho sum_z sum_{w in S_z} t_zw log(t_zw / (m_z phi_zw)), with
  phi_z = h_z / mass(h_z) the topic as a distribution, t_z of the mean mass m_z of X's rows:
  the seed words' share of the whole topic is pulled up, as PLSA's prior does. A penalty on
  the entries c_z h_zw themselves (D(t_zw || c_z h_zw), c_z fixed at the start) was nearly
  void: scaling h_z up and W's column down meets it at no cost, and on THUCNews headlines it
  lowered every seeded class's F1 (finance 0.54 to 0.45, benchmarks/guided.py).
- PLSA: a Dirichlet prior on P(w | z): rho t_z pseudo-counts added in every M step (MAP EM),
  t_z with the mean token count of a document times (1 - background).

The start is the model's own (NNDSVD), with its components matched to the seeds (the
assignment that puts the most of each seeded topic's weight on its words) and moved to the
seeded topics' places; then each seeded topic's start is replaced by the mean of the
documents that use its words. Without that replacement a seeded topic was often an unrelated
start component with the seed words added on top: on THUCNews headlines the topic named
"stocks" matched the stocks class with F1 0.25, against 0.53 with it. Only the seed words'
entries are pulled: a penalty on the whole row (towards a row of seed words only) squeezed
the topic down to its seed words, and its documents' F1 fell to 0.08-0.43. KL-NMF keeps its
matched start components: there the documents' mean helped well-chosen words (THUCNews, the
three most class-typical words a class: seeded classes +0.10 against +0.02) but vague ones
(金融 经济 投资, 政治 领导 国家) made the seeded topics broad and the unseeded classes lost 0.11 F1,
against 0.001 without it. ``benchmarks/guided.py`` measured these choices
(benchmarks/RESULTS.md).
"""

from __future__ import annotations

import numpy as np

from ..errors import InvalidParameterError

_TINY = np.finfo(np.float64).tiny

#: The default strength: how much a seeded topic's pseudo-document weighs, as a share of an
#: average topic (benchmarks/guided.py).
DEFAULT_STRENGTH = 0.1


def check_seeds(seed_topics, strength, k: int, n_terms: int | None, owner: str):
    """``seed_topics`` as a list of sorted term-index arrays (one per seeded topic, topics
    0..S-1), or None; an error when they outnumber ``k`` or name terms outside the
    vocabulary."""
    from .. import _validation
    _validation.check_float(strength, "seed_strength", low=0.0, owner=owner)
    if seed_topics is None:
        return None
    try:
        topics = [np.unique(np.asarray(list(terms), dtype=np.int64)) for terms in seed_topics]
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(
            f"The 'seed_topics' parameter of {owner} must be a list of lists of term "
            f"indices, one list per seeded topic; got {seed_topics!r}.") from exc
    if len(topics) > k:
        raise InvalidParameterError(
            f"{len(topics)} seeded topics for n_topics={k} in {owner}; ask for at least "
            f"{len(topics)} topics or give fewer seed topics.")
    for terms in topics:
        if terms.size == 0:
            raise InvalidParameterError(
                f"A seeded topic of {owner} has no seed term; give each at least one.")
        if terms[0] < 0:
            raise InvalidParameterError(
                f"Seed term index {int(terms[0])} of {owner} is negative; term indices count "
                f"from 0.")
        if n_terms is not None and terms[-1] >= n_terms:
            raise InvalidParameterError(
                f"Seed term index {int(terms[-1])} is outside the vocabulary of {n_terms} "
                f"terms in {owner}.")
    return topics or None


class Seeds:
    """The pseudo-documents of the seeded topics of one fit (see the module text)."""

    def __init__(self, topics: list[np.ndarray], mass: float, weight: float):
        #: Term indices of each seeded topic (topics 0..S-1).
        self.topics = topics
        #: Each pseudo-document's entries: ``mass`` spread equally over its terms.
        self.values = [np.full(len(t), mass / len(t)) for t in topics]
        #: rho: how many documents each pseudo-document counts as.
        self.weight = float(weight)
        #: c_z (Frobenius): the pseudo-documents' fixed topic weights, set by :meth:`calibrate`.
        self.scale = np.ones(len(topics))

    def __len__(self) -> int:
        return len(self.topics)

    @classmethod
    def for_fit(cls, topics, strength: float, k: int, n_docs: int, row_mass: float):
        """The seeds of a fit on ``n_docs`` documents into ``k`` topics, each pseudo-document
        of mass (or norm) ``row_mass`` counting as ``strength * n_docs / k`` documents."""
        if topics is None:
            return None
        return cls(topics, row_mass, strength * n_docs / k)

    def arrange(self, source, HT: np.ndarray, k: int, name: str = "W") -> None:
        """Reorder the first k start components (columns of ``HT`` and of the document-side
        array ``name``) so that seeded topic z is the component with the largest share of its
        weight on z's words; the other components follow in their order."""
        from scipy.optimize import linear_sum_assignment

        totals = HT[:, :k].sum(axis=0, dtype=np.float64)
        share = np.array([HT[terms, :k].sum(axis=0, dtype=np.float64) for terms in self.topics])
        share = np.divide(share, totals, out=np.zeros_like(share), where=totals > 0)
        _, chosen = linear_sum_assignment(-share)  # rows: the seeded topics, in order
        order = np.concatenate([chosen, [j for j in range(k) if j not in set(chosen)]])
        if (order == np.arange(k)).all():
            return
        HT[:, :k] = HT[:, order]
        source.map_reduce(_permute_step, name, order)

    def start(self, source, HT: np.ndarray, norm: str) -> None:
        """Seeded topic z starts from the mean row of X over the documents that use z's seed
        words, scaled to the norm (``"l2"``) or mass (``"l1"``, PLSA) of the start component in
        its place; its zeros get that component's smallest positive weight (multiplicative
        updates cannot move a zero)."""
        sums = source.map_reduce(_seed_rows_step, self.topics)
        for z in range(len(self)):
            centroid = np.asarray(sums[z], dtype=np.float64)
            column = HT[:, z].astype(np.float64)
            size = _size(column, norm)
            if not centroid.any() or size == 0:
                continue
            centroid *= size / _size(centroid, norm)
            positive = column[column > 0]
            centroid[centroid == 0] = positive.min() if positive.size else 0.0
            HT[:, z] = centroid.astype(HT.dtype)

    def calibrate(self, HT: np.ndarray) -> None:
        """c_z (Frobenius) from the start H: the pseudo-document's norm over that of h_z."""
        for z, values in enumerate(self.values):
            size = np.linalg.norm(HT[:, z].astype(np.float64))
            self.scale[z] = np.linalg.norm(values) / size if size > 0 else 1.0

    # ----------------------------------------------------------- Frobenius
    def frobenius_penalty(self, HT: np.ndarray) -> float:
        """rho/2 sum_z sum_{w in seeds z} (t_zw - c_z h_zw)^2."""
        return 0.5 * self.weight * sum(
            float(((values - c * HT[terms, z].astype(np.float64)) ** 2).sum())
            for z, (terms, values, c) in enumerate(zip(self.topics, self.values, self.scale)))

    def before_frobenius(self, HT: np.ndarray, XtW: np.ndarray) -> list:
        """What :meth:`frobenius_update` needs of the seed rows before H^T is updated."""
        return [(HT[terms].astype(np.float64), XtW[terms, z].astype(np.float64))
                for z, terms in enumerate(self.topics)]

    def frobenius_update(self, HT: np.ndarray, before: list, WtW: np.ndarray) -> None:
        """The seed entries' multiplicative update with the penalty's gradient:
        h <- h (X^T W + rho c t) / (H^T W^T W + rho c^2 h)."""
        WtW = WtW.astype(np.float64)
        for z, ((rows, xtw), terms, values, c) in enumerate(
                zip(before, self.topics, self.values, self.scale)):
            h = rows[:, z]
            denominator = rows @ WtW[:, z] + self.weight * c * c * h
            update = h * (xtw + self.weight * c * values) / np.maximum(denominator, _TINY)
            HT[terms, z] = update.astype(HT.dtype)

    # ------------------------------------------------------ Kullback-Leibler
    def kl_penalty(self, HT: np.ndarray) -> float:
        """rho sum_z sum_{w in seeds z} t_zw log(t_zw / (m_z phi_zw)), phi_z = h_z / sum(h_z)
        and m_z the mass of t_z: how far the seed words' share of topic z falls short of the
        pseudo-document's (0 when the topic is its seed words in their proportions)."""
        total = 0.0
        for z, (terms, values) in enumerate(zip(self.topics, self.values)):
            mass = float(HT[:, z].sum(dtype=np.float64))
            phi = HT[terms, z].astype(np.float64) / max(mass, _TINY)
            total += float(values @ np.log(values / values.sum() / np.maximum(phi, _TINY)))
        return self.weight * total

    def kl_update(self, HT: np.ndarray, w_sums: np.ndarray, h_sums: np.ndarray) -> None:
        """The seeded columns of H^T, updated without the seeds as h' = h (R^T W) / s (s: the
        column sum of W, ``h_sums`` those of h before the update), redone with them as the
        minimum of a majorizer of the loss plus :meth:`kl_penalty` (its log of the topic's
        mass bounded by its tangent at ``h_sums``): h <- (h' s + rho t) / (s + rho m / sum h).
        The penalty does not change when a topic is scaled, so neither does the update."""
        for z, (terms, values) in enumerate(zip(self.topics, self.values)):
            s = float(w_sums[z])
            pull = self.weight * float(values.sum()) / max(float(h_sums[z]), _TINY)
            column = HT[:, z].astype(np.float64) * (s / (s + pull))
            column[terms] += self.weight * values / (s + pull)
            HT[:, z] = column.astype(HT.dtype)

    def add_counts(self, HT: np.ndarray) -> None:
        """H^T[seeds z, z] += rho t_z: PLSA's pseudo-counts."""
        for z, (terms, values) in enumerate(zip(self.topics, self.values)):
            HT[terms, z] += (self.weight * values).astype(HT.dtype)

    # ------------------------------------------------------------------ PLSA
    def log_prior(self, phiT: np.ndarray) -> float:
        """sum_z rho t_z . log P(w | z): the log of the Dirichlet prior, up to a constant."""
        return self.weight * sum(
            float(values @ np.log(np.maximum(phiT[terms, z].astype(np.float64), _TINY)))
            for z, (terms, values) in enumerate(zip(self.topics, self.values)))


def _size(v: np.ndarray, norm: str) -> float:
    return float(np.linalg.norm(v) if norm == "l2" else v.sum())


def _seed_rows_step(ctx, X, topics):
    """Per seeded topic, the sum of the block's rows of X that hold any of its seed terms
    (float64, n_terms each)."""
    sums = np.zeros((len(topics), X.shape[1]))
    for z, terms in enumerate(topics):
        hit = np.isin(X.indices, terms)
        rows = np.unique(np.searchsorted(X.indptr, np.flatnonzero(hit), side="right") - 1)
        if rows.size:
            sums[z] = np.asarray(X[rows].sum(axis=0), dtype=np.float64).ravel()
    return sums


def _permute_step(ctx, X, name, order):
    rows = ctx.local[name]
    k = len(order)
    rows[:, :k] = rows[:, order]

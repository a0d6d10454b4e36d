"""Voxel-wise metrics in NumPy (torch tensors are accepted and converted).

Binary per class: Jaccard (IoU) = TP / (TP + FP + FN), Dice = 2TP / (2TP + FP + FN),
precision = TP / (TP + FP), recall = TP / (TP + FN), average precision (AP) = Σ_n (R_n − R_{n−1}) P_n
over thresholds at every distinct score (the step-wise area under the precision–recall curve, the
definition of scikit-learn's ``average_precision_score``). Conventions for empty denominators: a
class with no positives and no predictions scores Jaccard/Dice 1 and precision/recall 1 (nothing to
find, nothing wrongly found); AP of a class without positives is NaN.

:class:`ScoreHistogram` accumulates scores of positives and negatives over many volumes in fixed
bins, so metrics at any threshold and AP over a whole split need memory independent of the split
size; its AP differs from the exact one only by ties inside a bin (bins of 1/``bins``).
"""

from __future__ import annotations

import numpy as np


def _np(a) -> np.ndarray:
    if hasattr(a, "detach"):
        a = a.detach().float().cpu().numpy()
    return np.asarray(a)


def confusion(pred, target) -> tuple[int, int, int, int]:
    """(TP, FP, FN, TN) of two boolean arrays of the same shape."""
    p = _np(pred).astype(bool)
    t = _np(target).astype(bool)
    tp = int(np.count_nonzero(p & t))
    fp = int(np.count_nonzero(p & ~t))
    fn = int(np.count_nonzero(~p & t))
    return tp, fp, fn, int(p.size - tp - fp - fn)


def _ratio(num: float, den: float) -> float:
    return float(num / den) if den > 0 else 1.0


def scores_from_counts(tp: int, fp: int, fn: int) -> dict:
    """Jaccard, Dice, precision and recall from confusion counts."""
    return {
        "jaccard": _ratio(tp, tp + fp + fn),
        "dice": _ratio(2 * tp, 2 * tp + fp + fn),
        "precision": _ratio(tp, tp + fp),
        "recall": _ratio(tp, tp + fn),
    }


def jaccard(pred, target) -> float:
    tp, fp, fn, _ = confusion(pred, target)
    return scores_from_counts(tp, fp, fn)["jaccard"]


def dice(pred, target) -> float:
    tp, fp, fn, _ = confusion(pred, target)
    return scores_from_counts(tp, fp, fn)["dice"]


def precision(pred, target) -> float:
    tp, fp, fn, _ = confusion(pred, target)
    return scores_from_counts(tp, fp, fn)["precision"]


def recall(pred, target) -> float:
    tp, fp, fn, _ = confusion(pred, target)
    return scores_from_counts(tp, fp, fn)["recall"]


def average_precision(scores, target) -> float:
    """Exact AP of real-valued ``scores`` against boolean ``target`` (any equal shapes)."""
    s = _np(scores).ravel().astype(np.float64)
    t = _np(target).ravel().astype(bool)
    n_pos = int(t.sum())
    if n_pos == 0:
        return float("nan")
    order = np.argsort(-s, kind="stable")
    s, t = s[order], t[order]
    # one threshold per distinct score: the last index of each run of equal scores
    last = np.r_[np.flatnonzero(np.diff(s) != 0), s.size - 1]
    tp = np.cumsum(t)[last]
    fp = (last + 1) - tp
    prec = tp / (tp + fp)
    rec = tp / n_pos
    return float(np.sum(np.diff(np.r_[0.0, rec]) * prec))


class ScoreHistogram:
    """Streaming per-class histograms of scores in [0, 1] for positive and negative voxels.

    ``update(probs (K, ...), target (K, ...), mask (...) or None)``; then :meth:`at` gives the
    scores at a threshold, :meth:`best_thresholds` the Jaccard-maximising threshold per class and
    :meth:`average_precision` the AP per class.
    """

    def __init__(self, n_classes: int, bins: int = 1000):
        self.bins = bins
        self.pos = np.zeros((n_classes, bins), np.int64)
        self.neg = np.zeros((n_classes, bins), np.int64)

    def update(self, probs, target, mask=None) -> None:
        p = _np(probs).reshape(self.pos.shape[0], -1)
        t = _np(target).reshape(self.pos.shape[0], -1).astype(bool)
        idx = np.clip((p * self.bins).astype(np.int64), 0, self.bins - 1)
        keep = None if mask is None else _np(mask).reshape(-1).astype(bool)
        for k in range(p.shape[0]):  # loop over classes (a handful), not voxels
            ik, tk = (idx[k], t[k]) if keep is None else (idx[k][keep], t[k][keep])
            self.pos[k] += np.bincount(ik[tk], minlength=self.bins)
            self.neg[k] += np.bincount(ik[~tk], minlength=self.bins)

    def merge(self, other: ScoreHistogram) -> None:
        self.pos += other.pos
        self.neg += other.neg

    def _counts_at_bins(self):
        # predicted positive when score >= bin_lo; cumulative from the top bin down
        tp = np.cumsum(self.pos[:, ::-1], 1)[:, ::-1]
        fp = np.cumsum(self.neg[:, ::-1], 1)[:, ::-1]
        fn = self.pos.sum(1, keepdims=True) - tp
        return tp, fp, fn

    def at(self, thresholds) -> list[dict]:
        """Scores per class with voxels predicted positive when prob ≥ threshold (per class)."""
        th = np.broadcast_to(np.asarray(thresholds, np.float64), (self.pos.shape[0],))
        tp, fp, fn = self._counts_at_bins()
        out = []
        for k in range(self.pos.shape[0]):
            b = int(np.clip(np.ceil(th[k] * self.bins - 1e-9), 0, self.bins - 1))
            out.append(scores_from_counts(int(tp[k, b]), int(fp[k, b]), int(fn[k, b])))
        return out

    def best_thresholds(self) -> np.ndarray:
        """(K,) threshold (a bin edge) maximising Jaccard per class; 0.5 for classes without positives
        (every threshold scores 0 there, and 0 would call every voxel positive)."""
        tp, fp, fn = self._counts_at_bins()
        jac = tp / np.maximum(tp + fp + fn, 1)
        th = np.argmax(jac, 1) / self.bins
        return np.where(self.pos.sum(1) > 0, th, 0.5)

    def average_precision(self) -> np.ndarray:
        """(K,) AP with one threshold per bin (NaN for classes without positives)."""
        tp, fp, _ = self._counts_at_bins()
        n_pos = self.pos.sum(1)
        out = np.full(self.pos.shape[0], np.nan)
        for k in range(self.pos.shape[0]):
            if n_pos[k] == 0:
                continue
            t, f = tp[k][::-1], fp[k][::-1]  # thresholds from high to low
            prec = np.where(t + f > 0, t / np.maximum(t + f, 1), 1.0)
            rec = t / n_pos[k]
            out[k] = float(np.sum(np.diff(np.r_[0.0, rec]) * prec))
        return out

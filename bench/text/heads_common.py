"""Helpers shared by the head-training scripts of bench/text (train_heads.py,
train_emotion_head.py): per-label thresholds and the capped multi-label decision."""
import numpy as np
from sklearn.metrics import f1_score


def best_thresholds(P, Y):
    """Per label (column), the probability threshold in 0.05..0.95 with the best F1 on (P, Y)."""
    grid = np.arange(0.05, 0.96, 0.01)
    return np.array([grid[int(np.argmax([f1_score(Y[:, k], P[:, k] >= t, zero_division=0) for t in grid]))]
                     for k in range(Y.shape[1])])


def decide(P, th, max_labels):
    """Labels at or above their thresholds, at most `max_labels` per row (the most probable)."""
    D = P >= th
    for i in range(len(P)):
        on = np.where(D[i])[0]
        if len(on) > max_labels:
            D[i] = False
            D[i, on[np.argsort(-P[i, on])[:max_labels]]] = True
    return D

#!/usr/bin/env python3
"""Chooses (by cross-validation) and trains the model route's emotion head, on every part of the
team-written emotion sets but b (bench/text/emotions/: a, c and, since its second round, d; part b
is held out and dropped right after loading: the Rust benches measure it).

Head (crates/escucha-text/src/model/emotion_head_weights.json): per emotion of the NEV catalogue
a binary logistic regression over [USE v3 embedding (512), the cue detector's confidence for each
of the 12 emotions, the model route's sentiment score], a probability threshold per emotion, at
most 2 emotions per text (the sets' labels hold at most 2).

Protocol, fixed before any candidate ran:
- Criterion: macro-F1 over the 12 emotions of 5-fold out-of-fold predictions on parts a + c
  (KFold, shuffled, seed 0), each emotion's threshold chosen on those pooled predictions (which
  flatters every candidate equally). The cue detector alone (its confidences >= 0.35, as the
  fallback reports them) is printed as the baseline.
- Candidates: C in {0.1, 0.3, 1, 3} x classes {unweighted, balanced}. Ship the best criterion.
- The shipped head is fitted on all training rows with the chosen settings; thresholds from the
  5-fold out-of-fold predictions.
- Second round (fixed before part d was written): part d (four more writers, same brief, new
  industries) joins the training rows; the same candidates and criterion choose the settings; the
  head trained on a + c + d ships whatever part b then says (b decides nothing), and b is
  measured once.

Input: ESCUCHA_MODEL_DIR=... cargo run --release -p escucha-text --example dump_emotion_features > emo.jsonl
Run:   python3 bench/text/train_emotion_head.py cv emo.jsonl
       python3 bench/text/train_emotion_head.py train emo.jsonl C BALANCED(0|1)
Needs numpy and scikit-learn.
"""
import json
import sys

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import KFold

from heads_common import best_thresholds, decide

EMOTIONS = ["pleased", "trusting", "valued", "cared_for", "happy", "safe", "frustrated", "disappointed", "neglected",
            "stressed", "angry", "hurried"]
SEED = 0
MAX_EMOTIONS = 2

mode, path = sys.argv[1], sys.argv[2]
rows = [r for r in (json.loads(line) for line in open(path)) if r["part"] != "b"]
X = np.array([r["emb"] + r["cues"] + [r["score"]] for r in rows], dtype=float)
CUES = np.array([r["cues"] for r in rows], dtype=float)
Y = np.zeros((len(rows), len(EMOTIONS)), int)
for i, r in enumerate(rows):
    for g in r["gold"]:
        Y[i, EMOTIONS.index(g)] = 1
per_part = {p: sum(r["part"] == p for r in rows) for p in "acd"}
print(f"rows: {len(rows)} {per_part}; positives per emotion {dict(zip(EMOTIONS, Y.sum(0).tolist()))}", file=sys.stderr)


def fit(idx, C, balanced):
    return [LogisticRegression(C=C, max_iter=2000, class_weight="balanced" if balanced else None).fit(X[idx], Y[idx, k])
            for k in range(len(EMOTIONS))]


def predict(models, idx):
    return np.stack([m.predict_proba(X[idx])[:, 1] for m in models], axis=1)


def oof(C, balanced):
    P = np.zeros(Y.shape)
    for a, b in KFold(5, shuffle=True, random_state=SEED).split(X):
        P[b] = predict(fit(a, C, balanced), b)
    return P


def macro(D):
    return f1_score(Y, D, average="macro", zero_division=0)


if mode == "cv":
    print(f"baseline, cue detector alone (>= 0.35): macro-F1 {macro(CUES >= 0.35):.3f}", flush=True)
    for C in (0.1, 0.3, 1.0, 3.0):
        for balanced in (False, True):
            P = oof(C, balanced)
            D = decide(P, best_thresholds(P, Y), MAX_EMOTIONS)
            per = dict(zip(EMOTIONS, np.round(f1_score(Y, D, average=None, zero_division=0), 2).tolist()))
            print(f"C={C} balanced={balanced}: macro-F1 {macro(D):.3f} {per}", flush=True)
elif mode == "train":
    C, balanced = float(sys.argv[3]), sys.argv[4] == "1"
    th = best_thresholds(oof(C, balanced), Y)
    models = fit(np.arange(len(rows)), C, balanced)
    with open("crates/escucha-text/src/model/emotion_head_weights.json", "w") as f:
        json.dump({
            "trained_on": f"team-written emotion sets bench/text/emotions parts a + c (ours); {len(rows)} texts; one "
                          f"logistic regression per emotion, C={C:g}, classes {'balanced' if balanced else 'unweighted'}; "
                          "thresholds: best F1 on 5-fold out-of-fold predictions (bench/text/train_emotion_head.py)",
            "emotions": EMOTIONS,
            "features": ["embedding[512]"] + [f"cue_{e}" for e in EMOTIONS] + ["sentiment_score"],
            "weights": [round(float(v), 6) for m in models for v in m.coef_.reshape(-1)],
            "bias": [round(float(m.intercept_[0]), 6) for m in models],
            "thresholds": [round(float(t), 2) for t in th],
            "max_emotions": MAX_EMOTIONS,
        }, f)
    print(f"wrote the emotion head; thresholds {dict(zip(EMOTIONS, th.round(2).tolist()))}", file=sys.stderr)
else:
    sys.exit(f"unknown mode {mode}")

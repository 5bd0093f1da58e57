#!/usr/bin/env python3
"""Trains the hybrid sentiment head of the model route (crates/escucha-text/src/model/hybrid_weights.json).

A 3-class logistic regression over [USE v3 embedding (512), lexicon score, |lexicon score|,
text has '?'], trained ONLY on permissively licensed data: the VADER sets (MIT: tweets, movie
reviews, NYT editorials) and es_cx_dev (written for this project; weight 20 per row, since it is
the only customer-feedback set and has 400 rows). Classes unweighted, C = 1 (L2). Chosen among
{embedding only, + lexicon features} x {es_cx_dev weight 1, 20, 50} x {balanced, unweighted} x
{C 0.3, 1} (7 combinations, bench/text/MODEL.md) by 5-fold cross-validation: mean macro-F1 of
the held-out es_cx_dev and en_vader_tweets rows. en_airline_tweets (CC BY-NC-SA, evaluation
only) is never read here.

Input: the output of
  EMBEDDINGS=emb.f32 ESCUCHA_MODEL_DIR=... cargo run --release -p escucha-text --example dump_features > feats.jsonl
Run:   python3 bench/text/train_hybrid_head.py feats.jsonl emb.f32 > crates/escucha-text/src/model/hybrid_weights.json
Needs numpy and scikit-learn.
"""
import json
import sys

import numpy as np
from sklearn.linear_model import LogisticRegression

TRAIN_SETS = ["en_vader_tweets", "en_vader_movie_reviews", "en_vader_nyt_editorials", "es_cx_dev"]
LABELS = {"negative": 0, "neutral": 1, "positive": 2, "none": 1}

feats, emb = sys.argv[1], sys.argv[2]
rows = [json.loads(line) for line in open(feats)]
E = np.fromfile(emb, dtype="<f4").reshape(len(rows), 512)
keep = [i for i, r in enumerate(rows) if r["set"] in TRAIN_SETS and r["gold"] in LABELS]
X = np.hstack(
    [
        E[keep],
        np.array([[rows[i]["lex"], abs(rows[i]["lex"]), float(rows[i]["q"])] for i in keep]),
    ]
)
y = np.array([LABELS[rows[i]["gold"]] for i in keep])
w = np.array([20.0 if rows[i]["set"] == "es_cx_dev" else 1.0 for i in keep])
m = LogisticRegression(C=1.0, max_iter=400).fit(X, y, sample_weight=w)
json.dump(
    {
        "trained_on": "VADER tweets, movie reviews, NYT editorials (MIT) + es_cx_dev x20 (ours); "
        f"{len(keep)} texts; logistic regression C=1, classes unweighted (bench/text/train_hybrid_head.py)",
        "features": ["embedding[512]", "lexicon_score", "abs_lexicon_score", "has_question_mark"],
        "weights": [round(float(v), 6) for v in m.coef_.reshape(-1)],
        "bias": [round(float(v), 6) for v in m.intercept_],
    },
    sys.stdout,
)

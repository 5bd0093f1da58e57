#!/usr/bin/env python3
"""Superseded since round 4 by bench/text/train_heads.py (kept to reproduce rounds 2-3 of MODEL.md).

Trains the hybrid sentiment head of the model route (crates/escucha-text/src/model/hybrid_weights.json).

A 3-class logistic regression over [USE v3 embedding (512), lexicon score, |lexicon score|,
text has '?'], trained ONLY on permissively licensed data: the VADER sets (MIT: tweets, movie
reviews, NYT editorials) and es_cx_dev (written for this project; weight 20 per row, since it is
the only customer-feedback set and has 400 rows). Classes unweighted, C = 1 (L2). Chosen among
{embedding only, + lexicon features} x {es_cx_dev weight 1, 20, 50} x {balanced, unweighted} x
{C 0.3, 1} (7 combinations, bench/text/MODEL.md) by 5-fold cross-validation: mean macro-F1 of
the held-out es_cx_dev and en_vader_tweets rows. en_airline_tweets (CC BY-NC-SA, evaluation
only) is never read here, nor is es_evomsa_tweets.

Spanish lexicon weight (round 3): the lexicon features of Spanish rows are multiplied by
SPANISH_LEXICON_WEIGHT, in training and (from the JSON field of the same name) at run time. It
is not tuned: it is the ratio of how often the lexicon engine finds any sentiment evidence in
Spanish vs English text of the same genre, measured on the unlabelled Debian fortunes
(lid_es_en_fortunes, a language-id set: 0.416 vs 0.735 → 0.57), because our Spanish lexicon is
16x smaller than VADER's English one (463 vs 7,509 entries) and was written while looking at
es_cx_dev, so es_cx_dev (coverage 0.83) overstates it and cannot be used to set this weight.

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


def coverage(lang):
    """Share of the fortunes in `lang` where the lexicon engine's score is not zero."""
    lex = [abs(r["lex"]) > 1e-6 for r in rows if r["set"] == "lid_es_en_fortunes" and r["lang"] == lang]
    return sum(lex) / len(lex)


SPANISH_LEXICON_WEIGHT = round(coverage("es") / coverage("en"), 2)
print(f"lexicon coverage on fortunes: es {coverage('es'):.3f}, en {coverage('en'):.3f}; "
      f"Spanish lexicon weight {SPANISH_LEXICON_WEIGHT}", file=sys.stderr)
keep = [i for i, r in enumerate(rows) if r["set"] in TRAIN_SETS and r["gold"] in LABELS]


def lex(i):
    """The row's lexicon score, weighted by SPANISH_LEXICON_WEIGHT for Spanish rows."""
    return rows[i]["lex"] * (SPANISH_LEXICON_WEIGHT if rows[i]["lang"] == "es" else 1.0)


X = np.hstack(
    [
        E[keep],
        np.array([[lex(i), abs(lex(i)), float(rows[i]["q"])] for i in keep]),
    ]
)
y = np.array([LABELS[rows[i]["gold"]] for i in keep])
w = np.array([20.0 if rows[i]["set"] == "es_cx_dev" else 1.0 for i in keep])
m = LogisticRegression(C=1.0, max_iter=400).fit(X, y, sample_weight=w)
json.dump(
    {
        "trained_on": "VADER tweets, movie reviews, NYT editorials (MIT) + es_cx_dev x20 (ours); "
        f"{len(keep)} texts; logistic regression C=1, classes unweighted; Spanish lexicon features x "
        f"{SPANISH_LEXICON_WEIGHT} (bench/text/train_hybrid_head.py)",
        "features": ["embedding[512]", "lexicon_score", "abs_lexicon_score", "has_question_mark"],
        "weights": [round(float(v), 6) for v in m.coef_.reshape(-1)],
        "bias": [round(float(v), 6) for v in m.intercept_],
        "spanish_lexicon_weight": SPANISH_LEXICON_WEIGHT,
    },
    sys.stdout,
)

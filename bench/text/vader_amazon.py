#!/usr/bin/env python3
"""Writes VADER's Amazon product-review snippets as a labelled JSON-lines set, for training only.

The three VADER sets in ../shared/data/text (tweets, movie reviews, NYT editorials) come from the
sdist of vaderSentiment 3.3.2 (MIT), file additional_resources/hutto_ICWSM_2014.tar.gz. The same
archive holds a fourth set of the same study that ../shared/data/text does not carry: 3,708
sentences from Amazon product reviews, each with the mean of about 20 human ratings in -4..4.
Product reviews are customer feedback, so the model route's sentiment head may learn from them
(round 6 in bench/text/MODEL.md). Nothing is committed: this script fetches the sdist with pip
(or reads a given one) and writes the set where it is told, with the labels of the other VADER
sets (mean >= 0.5 positive, <= -0.5 negative, else neutral).

Run: python3 bench/text/vader_amazon.py OUT.jsonl [vaderSentiment-3.3.2.tar.gz]
"""
import io
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

VERSION = "3.3.2"
MEMBER = "hutto_ICWSM_2014/amazonReviewSnippets_GroundTruth.txt"


def sdist(path):
    if path:
        return Path(path)
    tmp = Path(tempfile.mkdtemp())
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary=:all:",
                    f"vaderSentiment=={VERSION}", "-d", str(tmp)], check=True)
    return next(tmp.glob("vaderSentiment-*.tar.gz"))


def main():
    out = Path(sys.argv[1])
    with tarfile.open(sdist(sys.argv[2] if len(sys.argv) > 2 else None)) as outer:
        inner_bytes = outer.extractfile(f"vaderSentiment-{VERSION}/additional_resources/hutto_ICWSM_2014.tar.gz").read()
    with tarfile.open(fileobj=io.BytesIO(inner_bytes)) as inner:
        lines = inner.extractfile(MEMBER).read().decode("utf-8", errors="replace").splitlines()
    n = 0
    with out.open("w") as f:
        for line in lines:
            parts = line.rstrip("\r").split("\t")
            if len(parts) < 3:
                continue
            rid, score, text = parts[0], float(parts[1]), "\t".join(parts[2:]).strip()
            label = "positive" if score >= 0.5 else "negative" if score <= -0.5 else "neutral"
            f.write(json.dumps({"text": text, "lang": "en", "label": label, "score": score, "id": rid,
                                "source": f"pypi-sdist:vaderSentiment=={VERSION} {MEMBER}"}, ensure_ascii=False) + "\n")
            n += 1
    print(f"wrote {n} rows to {out}", file=sys.stderr)


if __name__ == "__main__":
    main()

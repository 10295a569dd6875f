#!/usr/bin/env python3
"""Data and scikit-learn timings for the tree-training curve of `npm run bench` (scripts/bench.mjs, `--only curve`).

Two commands (run with /usr/bin/python3: Debian python3-sklearn and python3-numpy):

    tree-curve.py gen --rows N --out FILE    synthetic classification data, written as FILE (raw little-endian
                                             float64 X, row-major rows × cols, then int32 y) and FILE.json
                                             ({"rows", "cols", "classes", "lowCardinality", "seed"})
    tree-curve.py fit (--data FILE | --csv FILE [--label NAME]) [--scale] [--repeat R] [--random-state S]
                                             fits scikit-learn's DecisionTreeClassifier (criterion="gini",
                                             splitter="best", no depth limit) R times on FILE (or on a CSV of
                                             numeric feature columns and a label column, default 'Label':
                                             classes numbered in sorted order); with --scale each timed run is
                                             StandardScaler fit + transform then the tree fit (what
                                             `flowsift train` reports as "scale + fit"). Prints one JSON line:
                                             fit_seconds (median wall), fit_cpu_seconds (median process CPU),
                                             runs, node_count, depth, flowsift_random_state

The data: sklearn.datasets.make_classification(n_samples=N, n_features=20, n_informative=10,
n_redundant=4, n_classes=5, n_clusters_per_class=2, flip_y=0.01, random_state=SEED), then every other
column (10 of the 20) made low-cardinality, as flag, count and port-like flow features are: 5 cut into
2, 4, 8, 16 and 32 integer levels at their quantiles, 5 rounded to steps of 0.25 (about 35–150 distinct
values). The label noise (flip_y) makes the unlimited-depth tree grow to roughly one leaf per 5–10 rows,
so its size and depth grow with N as on real flow data. Same N, same bytes. (scikit-learn needs about
45–60 s of CPU for the 1,000,000-row fit on a loaded 2-core machine; flowsift about 10 s.)
"""
import argparse
import json
import sys
import time

SEED = 20240501
N_FEATURES = 20


def generate(rows):
    """Return (X float64 rows×20, y int32, list of the low-cardinality column indices)."""
    import numpy as np
    from sklearn.datasets import make_classification

    X, y = make_classification(
        n_samples=rows, n_features=N_FEATURES, n_informative=10, n_redundant=4, n_classes=5,
        n_clusters_per_class=2, flip_y=0.01, random_state=SEED)
    low = list(range(0, N_FEATURES, 2))
    for i, j in enumerate(low):
        if i % 2 == 0:
            levels = 2 ** (i // 2 + 1)  # 2, 4, 8, 16, 32
            edges = np.quantile(X[:, j], np.linspace(0, 1, levels + 1)[1:-1])
            X[:, j] = np.searchsorted(edges, X[:, j]).astype(np.float64)
        else:
            X[:, j] = np.round(np.clip(X[:, j], -20, 20) * 4) / 4
    return np.ascontiguousarray(X, dtype=np.float64), y.astype(np.int32), low


def load(path):
    import numpy as np

    with open(path + ".json", "r", encoding="utf-8") as fh:
        meta = json.load(fh)
    rows, cols = meta["rows"], meta["cols"]
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size != rows * cols * 8 + rows * 4:
        sys.exit(f"tree-curve.py: {path}: {raw.size} bytes, expected {rows * cols * 8 + rows * 4} for {rows} × {cols}")
    X = raw[: rows * cols * 8].view("<f8").reshape(rows, cols)
    y = raw[rows * cols * 8:].view("<i4")
    return X, y, meta


def read_csv(path, label):
    """Return (X float64, y int class indices in sorted label order) of a numeric CSV with a label column."""
    import numpy as np

    with open(path, "r", encoding="utf-8") as fh:
        header = [h.strip() for h in fh.readline().rstrip("\n").split(",")]
    if label not in header:
        sys.exit(f"tree-curve.py: {path}: no column named {label!r}")
    li = header.index(label)
    feat = [i for i in range(len(header)) if i != li]
    X = np.loadtxt(path, delimiter=",", skiprows=1, usecols=feat, dtype=np.float64, ndmin=2)
    labels = np.loadtxt(path, delimiter=",", skiprows=1, usecols=[li], dtype=str, ndmin=1)
    classes = sorted(set(labels.tolist()))
    index = {c: i for i, c in enumerate(classes)}
    return X, np.array([index[v] for v in labels.tolist()], dtype=np.int64)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("gen")
    g.add_argument("--rows", type=int, required=True)
    g.add_argument("--out", required=True)
    f = sub.add_parser("fit")
    src = f.add_mutually_exclusive_group(required=True)
    src.add_argument("--data")
    src.add_argument("--csv")
    f.add_argument("--label", default="Label")
    f.add_argument("--scale", action="store_true")
    f.add_argument("--repeat", type=int, default=3)
    f.add_argument("--random-state", type=int, default=0)
    args = ap.parse_args()

    if args.cmd == "gen":
        X, y, low = generate(args.rows)
        with open(args.out, "wb") as fh:
            fh.write(X.astype("<f8").tobytes())
            fh.write(y.astype("<i4").tobytes())
        with open(args.out + ".json", "w", encoding="utf-8") as fh:
            json.dump({"rows": int(X.shape[0]), "cols": int(X.shape[1]), "classes": 5, "lowCardinality": low,
                       "seed": SEED}, fh)
        return

    import numpy as np
    from sklearn.tree import DecisionTreeClassifier

    from sklearn.preprocessing import StandardScaler

    X, y = load(args.data)[:2] if args.data else read_csv(args.csv, args.label)
    X = np.ascontiguousarray(X)
    walls, cpus, clf = [], [], None
    for _ in range(max(1, args.repeat)):
        clf = DecisionTreeClassifier(criterion="gini", splitter="best", random_state=args.random_state)
        w0, c0 = time.perf_counter(), time.process_time()
        Xs = StandardScaler().fit(X).transform(X) if args.scale else X
        clf.fit(Xs, y)
        cpus.append(time.process_time() - c0)
        walls.append(time.perf_counter() - w0)
    print(json.dumps({
        "fit_seconds": sorted(walls)[len(walls) // 2],
        "fit_cpu_seconds": sorted(cpus)[len(cpus) // 2],
        "runs": walls,
        "node_count": int(clf.tree_.node_count),
        "depth": int(clf.get_depth()),
        "flowsift_random_state": int(np.random.RandomState(args.random_state).randint(0, 2**31 - 1)),
    }))


if __name__ == "__main__":
    main()

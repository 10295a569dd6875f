#!/usr/bin/env python3
"""Train scikit-learn's DecisionTreeClassifier on a CSV and print one JSON object (reference figures).

Used to compare flowsift's tree (src/model/tree.ts) with scikit-learn on the same data: by the model tests
(parity), by the benchmark and for the closing figures. Needs numpy and scikit-learn (Debian:
python3-sklearn); run it with /usr/bin/python3.

CSV format: a header line with the column names, one row per sample, numeric feature columns and one
label column (integers or strings; classes are numbered in sorted order, as scikit-learn's classes_).

    /usr/bin/python3 scripts/sklearn_tree.py --train train.csv --test test.csv --max-depth 12
    /usr/bin/python3 scripts/sklearn_tree.py --train all.csv --test-fraction 0.3 --class-weight balanced

Output (stdout, one line of JSON): library, sklearn_version, n_train, n_test, n_features, n_classes,
classes, params, fit_seconds (best of --repeat fits; includes scikit-learn's float32 conversion, as
flowsift's fit includes its own), predict_seconds, train_accuracy, accuracy and macro_f1 on the test set
(null without one), depth, node_count, n_leaves, root {feature_index, feature, threshold},
flowsift_random_state (the seed that makes flowsift's tree draw features as this fit did).
Options --tree-json and --predictions write the fitted tree arrays and the test predictions.
"""
import argparse
import json
import sys
import time


def read_csv(path, label):
    """Return (X float64 n×d, labels array, feature names)."""
    import numpy as np

    with open(path, "r", encoding="utf-8") as fh:
        header = fh.readline().strip().split(",")
    header = [h.strip().strip('"') for h in header]
    if label is None:
        label_idx = header.index("label") if "label" in header else len(header) - 1
    else:
        if label not in header:
            sys.exit(f"sklearn_tree.py: {path}: no column named {label!r} (columns: {', '.join(header)})")
        label_idx = header.index(label)
    feat_idx = [i for i in range(len(header)) if i != label_idx]
    names = [header[i] for i in feat_idx]
    X = np.loadtxt(path, delimiter=",", skiprows=1, usecols=feat_idx, dtype=np.float64, ndmin=2)
    y = np.loadtxt(path, delimiter=",", skiprows=1, usecols=[label_idx], dtype=str, ndmin=1)
    return X, y, names


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--train", required=True, help="training CSV")
    ap.add_argument("--test", help="test CSV (same columns)")
    ap.add_argument("--test-fraction", type=float, default=0.0,
                    help="without --test: hold out this fraction of --train (stratified, --split-seed)")
    ap.add_argument("--split-seed", type=int, default=0)
    ap.add_argument("--label", default=None, help="label column (default: 'label', else the last column)")
    ap.add_argument("--max-depth", default="none", help="integer or 'none' (unlimited, the default)")
    ap.add_argument("--min-samples-split", type=int, default=2)
    ap.add_argument("--min-samples-leaf", type=int, default=1)
    ap.add_argument("--min-impurity-decrease", type=float, default=0.0)
    ap.add_argument("--class-weight", choices=["none", "balanced"], default="none")
    ap.add_argument("--max-features", default="none", help="'none', 'sqrt', 'log2', an integer or a fraction")
    ap.add_argument("--random-state", type=int, default=0)
    ap.add_argument("--scale", action="store_true", help="StandardScaler fitted on the training rows first")
    ap.add_argument("--repeat", type=int, default=1, help="fit this many times, report the fastest")
    ap.add_argument("--tree-json", help="write tree_ arrays (feature, threshold, left, right, value, ...) here")
    ap.add_argument("--predictions", help="write the test predictions (class indices, one per line) here")
    args = ap.parse_args()

    import numpy as np
    import sklearn
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.tree import DecisionTreeClassifier

    X, labels, names = read_csv(args.train, args.label)
    if args.test:
        Xt, labels_t, names_t = read_csv(args.test, args.label)
        if names_t != names:
            sys.exit("sklearn_tree.py: --train and --test have different feature columns")
    elif args.test_fraction > 0:
        from sklearn.model_selection import train_test_split
        X, Xt, labels, labels_t = train_test_split(
            X, labels, test_size=args.test_fraction, random_state=args.split_seed, stratify=labels)
    else:
        Xt, labels_t = None, None

    def as_label(v):
        try:
            return int(v)
        except ValueError:
            return v

    classes = sorted({as_label(v) for v in labels} | ({as_label(v) for v in labels_t} if labels_t is not None else set()),
                     key=lambda v: (isinstance(v, str), v))
    index = {str(c): i for i, c in enumerate(classes)}
    y = np.array([index[str(as_label(v))] for v in labels], dtype=np.int64)
    yt = np.array([index[str(as_label(v))] for v in labels_t], dtype=np.int64) if labels_t is not None else None

    if args.scale:
        from sklearn.preprocessing import StandardScaler
        scaler = StandardScaler().fit(X)
        X = scaler.transform(X)
        if Xt is not None:
            Xt = scaler.transform(Xt)

    max_depth = None if args.max_depth.lower() in ("none", "null", "") else int(args.max_depth)
    mf = args.max_features.lower()
    if mf in ("none", "null", ""):
        max_features = None
    elif mf in ("sqrt", "log2"):
        max_features = mf
    elif "." in mf:
        max_features = float(mf)
    else:
        max_features = int(mf)
    params = dict(
        criterion="gini", splitter="best", max_depth=max_depth,
        min_samples_split=args.min_samples_split, min_samples_leaf=args.min_samples_leaf,
        min_impurity_decrease=args.min_impurity_decrease,
        class_weight=None if args.class_weight == "none" else "balanced",
        max_features=max_features, random_state=args.random_state,
    )
    X = np.ascontiguousarray(X, dtype=np.float64)
    best = None
    clf = None
    for _ in range(max(1, args.repeat)):
        clf = DecisionTreeClassifier(**params)
        t0 = time.perf_counter()
        clf.fit(X, y)
        dt = time.perf_counter() - t0
        best = dt if best is None else min(best, dt)

    # clf.classes_ are the training classes present; map back to our indices.
    present = clf.classes_
    train_pred = present[np.argmax(clf.predict_proba(X), axis=1)]
    out = {
        "library": "scikit-learn",
        "sklearn_version": sklearn.__version__,
        "n_train": int(X.shape[0]),
        "n_test": int(Xt.shape[0]) if Xt is not None else 0,
        "n_features": int(X.shape[1]),
        "n_classes": len(classes),
        "classes": [str(c) for c in classes],
        "params": params,
        "fit_seconds": best,
        "train_accuracy": float(accuracy_score(y, train_pred)),
        "depth": int(clf.get_depth()),
        "node_count": int(clf.tree_.node_count),
        "n_leaves": int(clf.get_n_leaves()),
        "root": None,
        # scikit-learn's internal xorshift seed for this random_state; flowsift's DecisionTreeClassifier
        # given it as `randomState` draws features in the same order (same trees, ties included).
        "flowsift_random_state": int(np.random.RandomState(args.random_state).randint(0, 2**31 - 1)),
    }
    t = clf.tree_
    if t.node_count > 1:
        out["root"] = {"feature_index": int(t.feature[0]), "feature": names[int(t.feature[0])],
                       "threshold": float(t.threshold[0])}
    if Xt is not None:
        t0 = time.perf_counter()
        pred = clf.predict(np.ascontiguousarray(Xt, dtype=np.float64))
        out["predict_seconds"] = time.perf_counter() - t0
        out["accuracy"] = float(accuracy_score(yt, pred))
        out["macro_f1"] = float(f1_score(yt, pred, average="macro"))
        if args.predictions:
            with open(args.predictions, "w", encoding="utf-8") as fh:
                fh.write("\n".join(str(int(p)) for p in pred) + "\n")
    else:
        out["predict_seconds"] = None
        out["accuracy"] = None
        out["macro_f1"] = None
    if args.tree_json:
        # value is n_nodes × n_classes_present (weighted class totals); widen to all classes.
        value = np.zeros((t.node_count, len(classes)))
        value[:, present] = t.value[:, 0, :]
        tree = {
            "nodeCount": int(t.node_count), "feature": t.feature.tolist(), "threshold": t.threshold.tolist(),
            "left": t.children_left.tolist(), "right": t.children_right.tolist(),
            "value": value.ravel().tolist(), "impurity": t.impurity.tolist(),
            "nNodeSamples": t.n_node_samples.tolist(), "weightedNNodeSamples": t.weighted_n_node_samples.tolist(),
            "featureImportances": clf.feature_importances_.tolist(),
        }
        with open(args.tree_json, "w", encoding="utf-8") as fh:
            json.dump(tree, fh)
    print(json.dumps(out))


if __name__ == "__main__":
    main()

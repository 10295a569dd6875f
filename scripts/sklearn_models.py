#!/usr/bin/env python3
"""Fit a scikit-learn model on a CSV and print one JSON object (reference figures for flowsift's models).

Models (--model): tree (DecisionTreeClassifier), forest (RandomForestClassifier), gbt
(GradientBoostingClassifier), hgb (HistGradientBoostingClassifier), iforest (IsolationForest, an anomaly
detector). Used by flowsift's model tests (forest parity), the benchmark and the closing figures. Needs
numpy and scikit-learn (Debian: python3-sklearn); run it with /usr/bin/python3.

CSV format: as scripts/sklearn_tree.py (header line, numeric feature columns, one label column: integers
or strings; classes are numbered in sorted order, as scikit-learn's classes_).

    /usr/bin/python3 scripts/sklearn_models.py --model forest --train train.csv --test test.csv --label Label
    /usr/bin/python3 scripts/sklearn_models.py --model hgb --train train.csv --test test.csv --label Label
    /usr/bin/python3 scripts/sklearn_models.py --model iforest --train train.csv --test test.csv --label Label --benign BENIGN

Output (stdout, one line of JSON): library, sklearn_version, model, params, n_train, n_test, n_features,
n_classes, classes, fit_seconds (best of --repeat fits, wall-clock), fit_cpu_seconds (best of the fits'
CPU time, all threads: the fairer figure on a busy machine), omp_num_threads (the OMP_NUM_THREADS environment
variable: set it to 1 for single-threaded hgb figures; HistGradientBoosting uses every core through OpenMP
and slows down badly when the cores are busy), predict_seconds, and on the test set:
- classifiers: accuracy, macro_f1, weighted_f1, per_class {name: {precision, recall, f1, support}};
  train_accuracy; for forest: oob_score (with --oob-score), node_count (all trees); for gbt/hgb:
  n_iter (boosting iterations run).
- iforest: fitted on the training rows labelled --benign only (n_train counts them); roc_auc of "attack"
  (label ≠ --benign) against --benign on the test rows, scored by -score_samples (higher = more
  anomalous); average_precision likewise.
Options --predictions and --proba write the test predictions (class indices, one per line) and
probabilities (one row per line, comma-separated; for iforest the anomaly scores); --forest-json writes a
forest's trees (feature, threshold, left, right, value widened to all classes) and feature_importances_.
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sklearn_tree import read_csv  # noqa: E402


def none_or_int(v):
    return None if v is None or str(v).lower() in ("none", "null", "") else int(v)


def max_features_arg(v):
    mf = str(v).lower()
    if mf in ("none", "null", ""):
        return None
    if mf in ("sqrt", "log2"):
        return mf
    return float(mf) if "." in mf else int(mf)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True, choices=["tree", "forest", "gbt", "hgb", "iforest"])
    ap.add_argument("--train", required=True, help="training CSV")
    ap.add_argument("--test", required=True, help="test CSV (same columns)")
    ap.add_argument("--label", default=None, help="label column (default: 'label', else the last column)")
    ap.add_argument("--scale", action="store_true", help="StandardScaler fitted on the training rows first")
    ap.add_argument("--random-state", type=int, default=0)
    ap.add_argument("--n-estimators", type=int, default=100, help="trees (forest, gbt, iforest) or max_iter (hgb)")
    ap.add_argument("--max-depth", default=None, help="integer or 'none' (default: the model's)")
    ap.add_argument("--max-features", default=None, help="'none', 'sqrt', 'log2', an integer or a fraction (default: the model's)")
    ap.add_argument("--min-samples-leaf", type=int, default=None)
    ap.add_argument("--class-weight", choices=["none", "balanced", "balanced_subsample"], default="none")
    ap.add_argument("--bootstrap", choices=["true", "false"], default="true", help="forest")
    ap.add_argument("--oob-score", action="store_true", help="forest")
    ap.add_argument("--n-jobs", type=int, default=1, help="forest, iforest")
    ap.add_argument("--learning-rate", type=float, default=0.1, help="gbt, hgb")
    ap.add_argument("--subsample", type=float, default=1.0, help="gbt")
    ap.add_argument("--max-leaf-nodes", default=None, help="gbt (default none), hgb (default 31)")
    ap.add_argument("--early-stopping", choices=["auto", "true", "false"], default="false", help="hgb (scikit-learn's default is auto)")
    ap.add_argument("--benign", default="BENIGN", help="iforest: the normal class")
    ap.add_argument("--repeat", type=int, default=1, help="fit this many times, report the fastest")
    ap.add_argument("--predictions", help="write the test predictions here")
    ap.add_argument("--proba", help="write the test probabilities (iforest: anomaly scores) here")
    ap.add_argument("--forest-json", help="forest: write the trees and feature_importances_ here")
    args = ap.parse_args()

    import numpy as np
    import sklearn
    from sklearn.metrics import accuracy_score, average_precision_score, f1_score, precision_recall_fscore_support, roc_auc_score

    X, labels, names = read_csv(args.train, args.label)
    Xt, labels_t, names_t = read_csv(args.test, args.label)
    if names_t != names:
        sys.exit("sklearn_models.py: --train and --test have different feature columns")

    def as_label(v):
        try:
            return int(v)
        except ValueError:
            return v

    classes = sorted({as_label(v) for v in labels} | {as_label(v) for v in labels_t}, key=lambda v: (isinstance(v, str), v))
    index = {str(c): i for i, c in enumerate(classes)}
    y = np.array([index[str(as_label(v))] for v in labels], dtype=np.int64)
    yt = np.array([index[str(as_label(v))] for v in labels_t], dtype=np.int64)

    if args.model == "iforest":
        benign = index.get(str(as_label(args.benign)))
        if benign is None:
            sys.exit(f"sklearn_models.py: no class named {args.benign!r} (classes: {', '.join(map(str, classes))})")
        X = X[y == benign]

    if args.scale:
        from sklearn.preprocessing import StandardScaler
        scaler = StandardScaler().fit(X)
        X = scaler.transform(X)
        Xt = scaler.transform(Xt)
    X = np.ascontiguousarray(X, dtype=np.float64)
    Xt = np.ascontiguousarray(Xt, dtype=np.float64)

    cw = None if args.class_weight == "none" else args.class_weight
    if args.model == "tree":
        from sklearn.tree import DecisionTreeClassifier as M
        params = dict(max_depth=none_or_int(args.max_depth), class_weight=cw, random_state=args.random_state,
                      max_features=max_features_arg(args.max_features) if args.max_features else None,
                      min_samples_leaf=args.min_samples_leaf or 1)
    elif args.model == "forest":
        from sklearn.ensemble import RandomForestClassifier as M
        params = dict(n_estimators=args.n_estimators, max_depth=none_or_int(args.max_depth), class_weight=cw,
                      max_features=max_features_arg(args.max_features) if args.max_features else "sqrt",
                      min_samples_leaf=args.min_samples_leaf or 1, bootstrap=args.bootstrap == "true",
                      oob_score=args.oob_score, n_jobs=args.n_jobs, random_state=args.random_state)
    elif args.model == "gbt":
        from sklearn.ensemble import GradientBoostingClassifier as M
        params = dict(n_estimators=args.n_estimators, learning_rate=args.learning_rate,
                      max_depth=3 if args.max_depth is None else none_or_int(args.max_depth),
                      max_leaf_nodes=none_or_int(args.max_leaf_nodes), subsample=args.subsample,
                      max_features=max_features_arg(args.max_features) if args.max_features else None,
                      min_samples_leaf=args.min_samples_leaf or 1, random_state=args.random_state)
    elif args.model == "hgb":
        from sklearn.ensemble import HistGradientBoostingClassifier as M
        es = {"auto": "auto", "true": True, "false": False}[args.early_stopping]
        params = dict(max_iter=args.n_estimators, learning_rate=args.learning_rate,
                      max_depth=none_or_int(args.max_depth),
                      max_leaf_nodes=31 if args.max_leaf_nodes is None else none_or_int(args.max_leaf_nodes),
                      min_samples_leaf=args.min_samples_leaf or 20, early_stopping=es,
                      class_weight=None if cw is None else "balanced", random_state=args.random_state)
    else:
        from sklearn.ensemble import IsolationForest as M
        params = dict(n_estimators=args.n_estimators, n_jobs=args.n_jobs, random_state=args.random_state)

    best = None
    best_cpu = None
    clf = None
    for _ in range(max(1, args.repeat)):
        clf = M(**params)
        t0 = time.perf_counter()
        c0 = time.process_time()
        clf.fit(X, y if args.model != "iforest" else None)
        dt = time.perf_counter() - t0
        dc = time.process_time() - c0
        best = dt if best is None else min(best, dt)
        best_cpu = dc if best_cpu is None else min(best_cpu, dc)

    out = {
        "library": "scikit-learn",
        "sklearn_version": sklearn.__version__,
        "model": M.__name__,
        "params": params,
        "n_train": int(X.shape[0]),
        "n_test": int(Xt.shape[0]),
        "n_features": int(X.shape[1]),
        "n_classes": len(classes),
        "classes": [str(c) for c in classes],
        "fit_seconds": best,
        "fit_cpu_seconds": best_cpu,
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
    }

    if args.model == "iforest":
        t0 = time.perf_counter()
        score = -clf.score_samples(Xt)
        out["predict_seconds"] = time.perf_counter() - t0
        attack = (yt != benign).astype(int)
        out["n_test_attack"] = int(attack.sum())
        out["roc_auc"] = float(roc_auc_score(attack, score)) if 0 < attack.sum() < len(attack) else None
        out["average_precision"] = float(average_precision_score(attack, score)) if attack.sum() > 0 else None
        if args.proba:
            with open(args.proba, "w", encoding="utf-8") as fh:
                fh.write("\n".join(repr(float(s)) for s in score) + "\n")
        print(json.dumps(out))
        return

    present = clf.classes_  # training classes (indices into `classes`)
    t0 = time.perf_counter()
    proba_present = clf.predict_proba(Xt)
    out["predict_seconds"] = time.perf_counter() - t0
    proba = np.zeros((Xt.shape[0], len(classes)))
    proba[:, present] = proba_present
    pred = present[np.argmax(proba_present, axis=1)]
    train_pred = present[np.argmax(clf.predict_proba(X), axis=1)]
    out["train_accuracy"] = float(accuracy_score(y, train_pred))
    out["accuracy"] = float(accuracy_score(yt, pred))
    out["macro_f1"] = float(f1_score(yt, pred, average="macro"))
    out["weighted_f1"] = float(f1_score(yt, pred, average="weighted"))
    labels_all = list(range(len(classes)))
    p, r, f, s = precision_recall_fscore_support(yt, pred, labels=labels_all, zero_division=0)
    out["per_class"] = {str(classes[i]): {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(s[i])}
                        for i in labels_all}
    if args.model == "forest":
        out["node_count"] = int(sum(e.tree_.node_count for e in clf.estimators_))
        out["oob_score"] = float(clf.oob_score_) if args.oob_score else None
    if args.model in ("gbt", "hgb"):
        out["n_iter"] = int(clf.n_estimators_ if args.model == "gbt" else clf.n_iter_)
    if args.predictions:
        with open(args.predictions, "w", encoding="utf-8") as fh:
            fh.write("\n".join(str(int(v)) for v in pred) + "\n")
    if args.proba:
        with open(args.proba, "w", encoding="utf-8") as fh:
            fh.write("\n".join(",".join(repr(float(v)) for v in row) for row in proba) + "\n")
    if args.forest_json and args.model == "forest":
        trees = []
        for e in clf.estimators_:
            t = e.tree_
            value = np.zeros((t.node_count, len(classes)))
            value[:, present] = t.value[:, 0, :]
            trees.append({"nodeCount": int(t.node_count), "feature": t.feature.tolist(), "threshold": t.threshold.tolist(),
                          "left": t.children_left.tolist(), "right": t.children_right.tolist(),
                          "value": value.ravel().tolist(), "nNodeSamples": t.n_node_samples.tolist()})
        with open(args.forest_json, "w", encoding="utf-8") as fh:
            json.dump({"trees": trees, "featureImportances": clf.feature_importances_.tolist(),
                       "oobDecisionFunction": clf.oob_decision_function_.tolist() if args.oob_score else None}, fh)
    print(json.dumps(out))


if __name__ == "__main__":
    main()

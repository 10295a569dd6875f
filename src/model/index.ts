/**
 * Model stage: the feature table type, standardisation (scikit-learn's StandardScaler), the CART decision
 * tree (scikit-learn's DecisionTreeClassifier, Breiman et al. 1984), the random forest (scikit-learn's
 * RandomForestClassifier, Breiman 2001), gradient-boosted trees (histogram GBDT after scikit-learn's
 * HistGradientBoostingClassifier, Friedman 2001), alert thresholds at a target false-positive rate, the open-set
 * guard (UNKNOWN for flows unlike the training flows of their class) and model bundles (save, load, score).
 */
export * from './errors.js';
export * from './matrix.js';
export * from './scaler.js';
export * from './tree.js';
export * from './forest.js';
export * from './gbt.js';
export * from './bundle.js';
export * from './threshold.js';
export * from './openset.js';

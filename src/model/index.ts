/**
 * Model stage: the feature table type, standardisation (scikit-learn's StandardScaler), the CART decision
 * tree (scikit-learn's DecisionTreeClassifier, Breiman et al. 1984) and model bundles (save, load, score).
 */
export * from './errors.js';
export * from './matrix.js';
export * from './scaler.js';
export * from './tree.js';
export * from './bundle.js';

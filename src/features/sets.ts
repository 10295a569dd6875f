/**
 * Named feature sets: lists of registry feature names (see `createFeatureSet` in ./registry.ts) that a model
 * can be trained on instead of every model input.
 */

/**
 * Features that travel between networks: the default model inputs chosen by held-out evidence in
 * docs/feature-study.md (script: scripts/feature-study.py, which checks that this list equals its choice).
 *
 * 35 of CICFlowMeter's 76 features, in CICFlowMeter's column order: packet counts and payload sizes per
 * direction, TCP flag counts, the Down/Up ratio, and the transport header lengths. The header lengths carry
 * the TCP options of raw-socket scanners and flooders such as nmap and hping3. Left out are the families
 * that describe the capturing network and the lab's hosts more than the attack:
 * - absolute times: durations, inter-arrival times, active and idle periods;
 * - every per-second rate: flow, packet and bulk rates;
 * - bulk and subflow shapes, which a 1 s gap cuts;
 * - initial TCP windows;
 * - ECN flag counts.
 *
 * Measured with scikit-learn's random forest trained on lab/train plus nfstream half A as benign background:
 * lab/test macro-F1 0.998; FPR 0.2% on nfstream half B, 0.0% on the CIC-IDS2017 Monday excerpt and 2.5% on
 * Chris Sanders' benign captures (refused connections taken for port-scan probes).
 */
export const TRAVEL_FEATURES: readonly string[] = Object.freeze([
  'Total Fwd Packet', 'Total Bwd packets', 'Total Length of Fwd Packet', 'Total Length of Bwd Packet',
  'Fwd Packet Length Max', 'Fwd Packet Length Min', 'Fwd Packet Length Mean', 'Fwd Packet Length Std',
  'Bwd Packet Length Max', 'Bwd Packet Length Min', 'Bwd Packet Length Mean', 'Bwd Packet Length Std',
  'Fwd PSH Flags', 'Bwd PSH Flags', 'Fwd URG Flags', 'Bwd URG Flags', 'Fwd Header Length', 'Bwd Header Length',
  'Packet Length Min', 'Packet Length Max', 'Packet Length Mean', 'Packet Length Std', 'Packet Length Variance',
  'FIN Flag Count', 'SYN Flag Count', 'RST Flag Count', 'PSH Flag Count', 'ACK Flag Count', 'URG Flag Count',
  'Down/Up Ratio', 'Average Packet Size', 'Fwd Segment Size Avg', 'Bwd Segment Size Avg', 'Fwd Act Data Pkts',
  'Fwd Seg Size Min',
]);

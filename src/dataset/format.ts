/**
 * Number text for messages and summaries.
 */

/**
 * A non-negative integer with ',' between groups of three digits (500,000), as `toLocaleString('en-US')` writes it,
 * without ICU: the first `toLocaleString` of a process costs 15–26 ms (measured on Node 20: ICU's number formatting
 * is set up on first use), paid by every `train`, `evaluate` and `score` that printed a count that way.
 */
export function groupDigits(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+$)/g, ',');
}

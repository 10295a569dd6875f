/**
 * Input errors of the dataset stage (label files, flow tables): one line naming the file and the line.
 */
export class DatasetError extends Error {
  override readonly name = 'DatasetError';
  /**
   * @param file path of the offending file
   * @param line 1-based line number, when the error is tied to a line
   */
  constructor(readonly file: string, message: string, readonly line?: number) {
    super(`${file}${line !== undefined ? `:${line}` : ''}: ${message}`);
  }
}

/**
 * A flow table (CSV of flow features: flowsift's `extract` output, CICFlowMeter's, CIC-IDS2017's, …) that cannot be
 * used: missing or empty file, no header, no Label column when labels are required, a non-numeric feature cell, or
 * feature columns a model needs that the table lacks. The message is one line, `file:line: …` (`file: …` when the
 * problem is not tied to a line), meant to be shown as is.
 */
export class TableError extends Error {
  override readonly name = 'TableError';
  /**
   * @param file path of the table
   * @param message the text after `file:line: `
   * @param line 1-based line number in the file, when the problem is tied to a line
   * @param column the column's name as written in the table, when the problem is tied to a column
   */
  constructor(readonly file: string, message: string, readonly line?: number, readonly column?: string) {
    super(`${file}${line !== undefined ? `:${line}` : ''}: ${message}`);
    this.stack = `TableError: ${this.message}`;
  }
}

/**
 * A cell or column name as an error or warning shows it: at most 40 characters (then `…`), control characters (C0,
 * DEL, C1) as `\xNN`, so that a binary file read as a flow table or label file cannot put terminal control sequences
 * in the message. Every cell or name of a file that table.ts and labels.ts put in a message goes through it.
 */
export function excerpt(s: string): string {
  const cut = s.length > 40 ? `${s.slice(0, 40)}…` : s;
  return cut.replace(/[\x00-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

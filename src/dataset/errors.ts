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

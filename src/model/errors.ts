/**
 * Errors of the model stage (scaler, tree, model bundle).
 *
 * Every failure that a user can cause — bad training input, wrong options, a missing, corrupt, tampered or
 * too-new model bundle, an input matrix that lacks features the model needs — is reported as a
 * {@link ModelError} with a one-line message. Programming errors in the shape helpers of `matrix.ts`
 * (a `data` array of the wrong length, a row index out of range) are `RangeError`s.
 */

/** Where a {@link ModelError} happened: the file and/or the field inside it. */
export interface ModelErrorLocation {
  /** File or directory concerned (e.g. the bundle's `model.json`), when there is one. */
  path?: string;
  /** Dotted/indexed location inside the JSON document or option object, e.g. `model.left[12]`. */
  field?: string;
}

/**
 * A one-line, user-facing error of the model stage.
 *
 * `message` is `"<path>: <field>: <detail>"` with the parts that are known; `detail` holds the bare
 * description, `path` the file or directory and `field` the JSON location, so that a caller (the CLI) can
 * print or reformat them.
 */
export class ModelError extends Error {
  override readonly name = 'ModelError';
  /** File or directory concerned, if any. */
  readonly path: string | undefined;
  /** JSON field or option concerned, if any. */
  readonly field: string | undefined;
  /** The description without the path and field prefixes. */
  readonly detail: string;

  /**
   * @param detail one-line description (no trailing period needed).
   * @param where optional file path and JSON field, prepended to the message.
   */
  constructor(detail: string, where: ModelErrorLocation = {}) {
    const prefix = [where.path, where.field].filter((s): s is string => s !== undefined && s !== '');
    super(prefix.length > 0 ? `${prefix.join(': ')}: ${detail}` : detail);
    this.path = where.path;
    this.field = where.field;
    this.detail = detail;
  }

  /** A copy of this error located in file `path` (keeps the field and detail). */
  withPath(path: string): ModelError {
    return new ModelError(this.detail, { path, field: this.field });
  }
}

/**
 * CLI error handling: usage errors exit 2, bad input exits 1, each as one line on stderr, never a stack
 * trace (set FLOWSIFT_DEBUG=1 to see one).
 */

/** A usage error (wrong or conflicting options): exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Exit codes of the CLI. */
export const ExitCode = { OK: 0, BAD_INPUT: 1, USAGE: 2, INTERNAL: 70, INTERRUPTED: 130 } as const;

/** Names of the error classes that describe bad input (their message is already one clear line). */
const INPUT_ERRORS = new Set(['CaptureError', 'DatasetError', 'ModelError', 'OutputError', 'TableError']);

/** Maps an error to (exit code, one-line message). */
export function describeError(err: unknown): { code: number; message: string } {
  if (err instanceof UsageError) return { code: ExitCode.USAGE, message: err.message };
  if (err instanceof Error && INPUT_ERRORS.has(err.name)) return { code: ExitCode.BAD_INPUT, message: err.message };
  if (err instanceof Error && (err as NodeJS.ErrnoException).code && (err as NodeJS.ErrnoException).path) {
    const e = err as NodeJS.ErrnoException;
    return { code: ExitCode.BAD_INPUT, message: `${e.path}: ${e.code}` };
  }
  const msg = err instanceof Error ? err.message : String(err);
  return { code: ExitCode.INTERNAL, message: `internal error: ${msg.split('\n')[0]} (please report; FLOWSIFT_DEBUG=1 shows the stack)` };
}

/**
 * CLI error handling: usage errors exit 2, bad input exits 1, each as one line on stderr, never a stack
 * trace (set FLOWSIFT_DEBUG=1 to see one).
 */

/** A usage error (wrong or conflicting options): exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * Exit codes of the CLI: 0 success, 1 bad input (capture, label file, flow table, model, output), 2 usage,
 * 70 internal error, 128 + signal number when stopped by a signal — 130 SIGINT (Ctrl-C), 141 a closed output
 * pipe (EPIPE, what SIGPIPE gives a Unix tool, e.g. `flowsift extract big.pcap | head -1`), 143 SIGTERM.
 */
export const ExitCode = { OK: 0, BAD_INPUT: 1, USAGE: 2, INTERNAL: 70, INTERRUPTED: 130, BROKEN_PIPE: 141, TERMINATED: 143 } as const;

/** Names of the error classes that describe bad input (their message is already one clear line). */
const INPUT_ERRORS = new Set(['CaptureError', 'DatasetError', 'ModelError', 'OutputError', 'TableError']);

/** True for a write to standard output that failed because its reader went away (EPIPE). */
export function isBrokenStdout(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const e = err as Error & { code?: unknown; file?: unknown };
  return e.code === 'EPIPE' && (e.name !== 'OutputError' || e.file === '-');
}

/**
 * Maps an error to (exit code, one-line message). `quiet` is set for a closed output pipe: like a Unix tool
 * killed by SIGPIPE, the CLI then exits 141 without a message.
 */
export function describeError(err: unknown): { code: number; message: string; quiet?: boolean } {
  if (isBrokenStdout(err)) return { code: ExitCode.BROKEN_PIPE, message: 'output closed (broken pipe)', quiet: true };
  if (err instanceof UsageError) return { code: ExitCode.USAGE, message: err.message };
  if (err instanceof Error && INPUT_ERRORS.has(err.name)) return { code: ExitCode.BAD_INPUT, message: err.message };
  if (err instanceof Error && (err as NodeJS.ErrnoException).code && (err as NodeJS.ErrnoException).path) {
    const e = err as NodeJS.ErrnoException;
    return { code: ExitCode.BAD_INPUT, message: `${e.path}: ${e.code}` };
  }
  const msg = err instanceof Error ? err.message : String(err);
  return { code: ExitCode.INTERNAL, message: `internal error: ${msg.split('\n')[0]} (please report; FLOWSIFT_DEBUG=1 shows the stack)` };
}

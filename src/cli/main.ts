/**
 * flowsift command line: a thin commander layer over the library stages.
 * Exit codes: 0 success, 1 bad input (capture, label file, model, output), 2 usage, 70 internal error,
 * 130 / 143 interrupted by SIGINT / SIGTERM (no half-written output file is left), 141 output pipe closed.
 */
import { Command, CommanderError } from 'commander';
import { abortOpenSinks } from '../dataset/output.js';
import { describeError, ExitCode, isBrokenStdout } from './errors.js';
import { registerEvaluate } from './commands/evaluate.js';
import { registerExtract } from './commands/extract.js';
import { registerScore } from './commands/score.js';
import { registerTrain } from './commands/train.js';
import { applyV8Tuning } from './v8-tuning.js';
import { VERSION } from './version.js';


/** Builds the commander program (exported for tests). */
export function buildProgram(): Command {
  const program = new Command('flowsift')
    .description('machine learning on network traffic: captures → flows → features → models → reports')
    .version(VERSION)
    .exitOverride()
    .showSuggestionAfterError()
    .configureOutput({ outputError: (str, write) => write(str.replace(/^error: /, 'flowsift: ')) });
  registerExtract(program);
  registerTrain(program);
  registerEvaluate(program);
  registerScore(program);
  for (const c of program.commands) c.exitOverride();
  return program;
}

/** Runs the CLI with `argv` (process.argv form); returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return ExitCode.OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are "errors" to commander with exit code 0.
      return err.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE;
    }
    if (process.env.FLOWSIFT_DEBUG) console.error(err);
    const { code, message, quiet } = describeError(err);
    if (!quiet) process.stderr.write(`flowsift: ${message}\n`);
    return code;
  }
}

/**
 * Ends the process after a signal or a closed output pipe: removes the temporary files of every open output
 * (so no half-written file is left under the requested name), prints `message` (if any) and exits with `code`.
 */
function stop(code: number, message: string | null): never {
  abortOpenSinks();
  if (message !== null) {
    try {
      process.stderr.write(`flowsift: ${message}\n`);
    } catch {
      /* stderr gone too */
    }
  }
  process.exit(code);
}

/**
 * Entry point of the `flowsift` binary: runs {@link main} on process.argv and sets the exit code.
 *
 * SIGINT (Ctrl-C) and SIGTERM abort the open outputs (their temporary files are removed; a file given with
 * `-o` is never left half-written) and exit 130 / 143. A closed standard output (EPIPE, e.g. `| head -1`)
 * ends the run quietly with 141, as SIGPIPE ends a Unix tool.
 */
export function run(): void {
  applyV8Tuning();
  process.on('SIGINT', () => stop(ExitCode.INTERRUPTED, 'interrupted (SIGINT); no partial output was kept'));
  process.on('SIGTERM', () => stop(ExitCode.TERMINATED, 'terminated (SIGTERM); no partial output was kept'));
  process.stdout.on('error', (err) => {
    if (isBrokenStdout(err)) stop(ExitCode.BROKEN_PIPE, null);
    stop(ExitCode.BAD_INPUT, `-: cannot write to standard output (${(err as NodeJS.ErrnoException).code ?? err.message})`);
  });
  main(process.argv).then((code) => { process.exitCode = code; });
}

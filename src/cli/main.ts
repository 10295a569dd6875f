/**
 * flowsift command line: a thin commander layer over the library stages.
 * Exit codes: 0 success, 1 bad input (capture, label file, model, output), 2 usage, 70 internal error.
 */
import { Command, CommanderError } from 'commander';
import { describeError, ExitCode } from './errors.js';
import { registerEvaluate } from './commands/evaluate.js';
import { registerExtract } from './commands/extract.js';
import { registerScore } from './commands/score.js';
import { registerTrain } from './commands/train.js';
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
    const { code, message } = describeError(err);
    process.stderr.write(`flowsift: ${message}\n`);
    return code;
  }
}

/** Entry point of the `flowsift` binary: runs {@link main} on process.argv and sets the exit code. */
export function run(): void {
  process.on('SIGINT', () => {
    process.stderr.write('flowsift: interrupted\n');
    process.exit(ExitCode.INTERRUPTED);
  });
  main(process.argv).then((code) => { process.exitCode = code; });
}

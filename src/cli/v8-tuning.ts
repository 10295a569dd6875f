/**
 * V8 compiler settings the CLI applies when it starts, before any hot code is optimised.
 *
 * Why: V8 inlines a callee only while the caller's inlined bytecode stays under a cumulative budget
 * (`--max-inlined-bytecode-size-cumulative`, 920 bytes by default). The meter's per-packet call of the feature
 * families (features/meter.ts `unrolled`) calls `onUpdate` methods of 98–389 bytes of bytecode each, plus their
 * Welford updates: with the default budget V8 inlines only the first few and calls the rest. A budget of 3,500 bytes
 * lets it inline them all, without raising the single-function limit (460 bytes), so the large functions (TCP state
 * machine, payload classifiers, decoder) stay separate compilation units and the optimised functions stay small
 * enough to recompile cheaply after a deoptimisation.
 *
 * Measured with `flowsift extract` on the benchmark capture (issue 5; 3 alternating runs each, output identical):
 * metering thread CPU 4.51–4.91 s → 4.03–4.12 s, V8's compiler and GC threads 0.47–0.49 s → 0.76–0.80 s, wall
 * 4.84–5.21 s → 4.58–4.65 s. Raising the single-function limit as well (1,000–2,000 bytes) inlined the whole pipeline
 * into the reader's loop, which was then recompiled after each rare path's first run: the compiler threads took as
 * much CPU as the metering thread saved.
 *
 * Library users get V8's defaults unless they start node with the flag themselves.
 */
import { setFlagsFromString } from 'node:v8';

/** The flags {@link applyV8Tuning} sets, as `--name=value`. */
export const V8_TUNING_FLAGS: readonly string[] = ['--max-inlined-bytecode-size-cumulative=3500'];

/**
 * Sets {@link V8_TUNING_FLAGS} for this process (worker threads share them), except a flag the user already gave node
 * on its command line (`process.execArgv`, with '-' or '_' between words), which wins. Call before the hot paths run:
 * V8 reads the budget each time it optimises a function, so functions optimised earlier keep the old budget until they
 * are recompiled.
 * @returns the flags it set
 */
export function applyV8Tuning(execArgv: readonly string[] = process.execArgv): string[] {
  const set: string[] = [];
  for (const flag of V8_TUNING_FLAGS) {
    const name = flag.slice(0, flag.indexOf('='));
    if (execArgv.some((a) => a.replace(/_/g, '-').split('=')[0] === name)) continue;
    setFlagsFromString(flag);
    set.push(flag);
  }
  return set;
}

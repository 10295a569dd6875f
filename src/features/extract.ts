/**
 * Capture file → finished flows: reads a pcap/pcapng file (or stdin) through a {@link FlowMeter}.
 */
import { readCapture } from '../capture/reader.js';
import type { CaptureSummary } from '../capture/types.js';
import type { FinishedFlow, MeterCounters, MeterOptions } from './meter.js';
import { FlowMeter } from './meter.js';

/** What one capture produced. */
export interface ExtractSummary {
  /** Path as given ('-' = stdin). */
  path: string;
  capture: CaptureSummary;
  counters: MeterCounters;
  /** Link types the decoder did not know (each reported once). */
  unknownLinkTypes: number[];
  /** Flows exported early because the table held `maxFlows` flows. */
  evictions: number;
}

/** Packets {@link extractCapture}'s meter decodes ahead (MeterOptions.lookahead; 16–192 measured alike, see there). */
export const EXTRACT_LOOKAHEAD = 64;

/**
 * Reads one capture and calls `onFlow` for every flow, in expiry order (flows still open at the end of the
 * capture come last, in order of their first packet). Flows do not span captures: each file has its own
 * flow table.
 * @throws CaptureError for a missing, unreadable or corrupt capture; flows completed before a corrupt
 *   record have been delivered, and the remaining open flows are flushed before the error propagates.
 */
export async function extractCapture(
  path: string, onFlow: (flow: FinishedFlow) => void, opts: MeterOptions & { strict?: boolean } = {},
): Promise<ExtractSummary> {
  // Packets are decoded EXTRACT_LOOKAHEAD ahead of the flow table (MeterOptions.lookahead); the parser's onRelease
  // accounts them before their bytes can change.
  const meter = new FlowMeter(onFlow, { lookahead: EXTRACT_LOOKAHEAD, ...opts });
  let capture: CaptureSummary;
  try {
    capture = await readCapture(path, (p) => meter.push(p), { strict: opts.strict, onRelease: () => meter.release() });
  } catch (err) {
    // Flush the open flows, but report the first error: when `onFlow` itself failed (e.g. the output went
    // away), flushing fails again, and that second error must not hide the first.
    try {
      meter.finish();
    } catch {
      /* the read error is the one to report */
    }
    throw err;
  }
  meter.finish();
  return {
    path,
    capture,
    counters: meter.counters,
    unknownLinkTypes: [...meter.decoder.unknownLinkTypes],
    evictions: meter.table.evictions,
  };
}

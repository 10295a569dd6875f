/**
 * A worker of {@link import('./parallel-extract.js').extractFilesInParallel}: extracts one capture at a time into a
 * headerless CSV part file and reports the capture's summary (or its error) to the main thread.
 */
import { parentPort } from 'node:worker_threads';
import { extractCapture } from '../features/extract.js';
import { FlowCsvWriter } from './csv.js';
import { ConstantLabeller, RuleLabeller, type Labeller } from './labels.js';
import { OutputSink } from './output.js';
import type { PartJob, PartResult } from './parallel-extract.js';

const labellers = new Map<string, Labeller>();

/** The job's labeller (rule files are read once per worker). */
function labellerOf(job: PartJob): Labeller | null {
  if (job.label !== undefined) return new ConstantLabeller(job.label);
  if (job.labels === undefined) return null;
  let l = labellers.get(job.labels);
  if (!l) {
    l = RuleLabeller.fromFile(job.labels);
    labellers.set(job.labels, l);
  }
  return l;
}

parentPort!.on('message', async (job: PartJob) => {
  const t0 = performance.now();
  let sink: OutputSink | null = null;
  try {
    const labeller = labellerOf(job);
    sink = OutputSink.open(job.part);
    const writer = new FlowCsvWriter(sink, job.featureNames, job.textNames, labeller !== null, { ...job.layout, header: false });
    const summary = await extractCapture(job.path, (flow) => writer.write(flow, labeller?.labelOf(flow)), job.meter);
    sink.close();
    const r: PartResult = { index: job.index, summary, seconds: (performance.now() - t0) / 1000 };
    parentPort!.postMessage(r);
  } catch (e) {
    sink?.abort();
    const err = e as Error & { code?: string };
    const r: PartResult = { index: job.index, error: { name: err.name, message: err.message, code: err.code } };
    parentPort!.postMessage(r);
  }
});

/**
 * Renders the feature registry as Markdown (docs/features.md is generated from it).
 */
import { CIC_FEATURE_ORDER, createFeatureSet, END_REASON_COLUMN, IDENTIFIER_COLUMNS } from './registry.js';

/** The features document: identifiers, then every feature with unit, definition and CICFlowMeter notes. */
export function featuresMarkdown(): string {
  const set = createFeatureSet();
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  const lines = [
    '# flowsift features',
    '',
    '<!-- Generated from src/features/registry.ts by `npm run docs`; do not edit by hand. -->',
    '',
    'One row per bidirectional flow. The forward direction is the initiator\'s (the sender of the flow\'s first',
    'packet); backward is the responder\'s. "Length" is the transport payload length in bytes, taken from the IP',
    'length fields (so snaplen truncation does not change it). Times are in microseconds. Standard deviations and',
    'variances are sample statistics (n − 1), as CICFlowMeter\'s Apache Commons Math; every statistic of an empty',
    'set is 0, and every division by zero gives 0 (never Infinity or NaN).',
    '',
    '## Identifier columns (not model inputs)',
    '',
    `${IDENTIFIER_COLUMNS.map((c) => `\`${c}\``).join(', ')}. \`Flow ID\` is CICFlowMeter\'s`,
    '`src-dst-srcport-dstport-protocol`; `Timestamp` is the first packet time in ISO 8601 UTC with microseconds.',
    '',
    `## Numeric columns (${set.features.length}; the first ${CIC_FEATURE_ORDER.length} are CICFlowMeter 4's features, in its column order)`,
    '',
    'Columns marked "no" under *model input* are written by `extract` (some only under `--profile nfstream` or',
    '`--statistical-analysis`) but are not model inputs unless `--features` names them.',
    '',
    '| # | name | unit | model input | definition | differs from CICFlowMeter 4 |',
    '|---|---|---|---|---|---|',
    ...set.features.map((f, i) => `| ${i + 1} | ${esc(f.name)} | ${f.unit} | ${f.modelInput === false ? 'no' : 'yes'} | ${esc(f.description)} | ${esc(f.differsFromCic ?? '')} |`),
    '',
    `## Text columns (${set.textColumns.length + 1}; not model inputs)`,
    '',
    '| name | definition |',
    '|---|---|',
    ...set.textColumns.map((c) => `| ${esc(c.name)} | ${esc(c.description)} |`),
    `| ${esc(END_REASON_COLUMN.name)} | ${esc(END_REASON_COLUMN.description)} |`,
    '',
    '## Families',
    '',
    'Each family is one accumulator in `src/features/families/` with per-flow state in typed arrays',
    '(nfstream\'s on_init / on_update / on_expire split):',
    '',
    ...set.families.map((f) => `- \`${f.name}\`: ${f.features.map((d) => d.name).join(', ')}`),
    ...set.textFamilies.map((f) => `- \`${f.name}\` (text): ${f.columns.map((d) => d.name).join(', ')}`),
    '',
  ];
  return lines.join('\n');
}

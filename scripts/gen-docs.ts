/** Writes docs/features.md from the feature registry (`npm run docs`). */
import { writeFileSync } from 'node:fs';
import { featuresMarkdown } from '../src/features/doc.js';

writeFileSync(new URL('../docs/features.md', import.meta.url), featuresMarkdown());

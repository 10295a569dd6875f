import { describe, it, expect } from 'vitest';
import { DecodedPacket } from '../src/decode/types.js';
describe('smoke', () => { it('works', () => { expect(new DecodedPacket().src.length).toBe(4); }); });

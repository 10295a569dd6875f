/**
 * The page-cache filler of the async file reader (src/capture/reader.ts, PageCacheFiller): it stays a bounded
 * distance ahead of the reader, releases its file descriptor, and changes nothing in what readCapture delivers.
 */
import { closeSync, openSync, readdirSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PageCacheFiller, readCapture, readCaptureSync } from '../src/capture/reader.js';
import './helpers/cleanup.js';
import { testDir } from './helpers/tmp.js';

const MiB = 1 << 20;
const openFds = (): number => readdirSync('/proc/self/fd').length;
/** Resolves once `cond()` holds (polled on the event loop, where the fill reads complete). */
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !cond(); i++) await new Promise((r) => setTimeout(r, 1));
}

/** A classic pcap (µs, Ethernet) of `n` frames of `len` bytes; frame k carries k in its first 4 bytes. */
function writePcap(path: string, n: number, len: number): void {
  const fd = openSync(path, 'w');
  const hdr = Buffer.alloc(24);
  hdr.writeUInt32LE(0xa1b2c3d4, 0);
  hdr.writeUInt16LE(2, 4);
  hdr.writeUInt16LE(4, 6);
  hdr.writeUInt32LE(65535, 16);
  hdr.writeUInt32LE(1, 20);
  writeSync(fd, hdr);
  const per = 1024;
  const block = Buffer.alloc(per * (16 + len));
  for (let k = 0; k < n; k += per) {
    const m = Math.min(per, n - k);
    for (let j = 0; j < m; j++) {
      const o = j * (16 + len);
      block.writeUInt32LE(1_700_000_000 + k + j, o);
      block.writeUInt32LE(0, o + 4);
      block.writeUInt32LE(len, o + 8);
      block.writeUInt32LE(len, o + 12);
      block.writeUInt32LE(k + j, o + 16);
    }
    writeSync(fd, block, 0, m * (16 + len));
  }
  closeSync(fd);
}

describe('PageCacheFiller', () => {
  it('fills 16 MiB ahead of the position it is given, no further, and releases its descriptor', async () => {
    const dir = testDir('fill');
    const file = join(dir, 'sparse.bin');
    writeFileSync(file, '');
    truncateSync(file, 40 * MiB); // sparse: reads return zeros without using the disk
    const before = openFds();
    const f = new PageCacheFiller(file, 40 * MiB);
    expect(openFds()).toBe(before + 1);
    f.advance(0);
    await until(() => f.filledBytes >= 16 * MiB);
    await new Promise((r) => setTimeout(r, 20));
    expect(f.filledBytes).toBe(16 * MiB);
    f.advance(10 * MiB);
    await until(() => f.filledBytes >= 26 * MiB);
    await new Promise((r) => setTimeout(r, 20));
    expect(f.filledBytes).toBe(26 * MiB);
    f.advance(30 * MiB); // capped at the file's size
    await until(() => f.filledBytes >= 40 * MiB);
    expect(f.filledBytes).toBe(40 * MiB);
    await f.close();
    expect(openFds()).toBe(before);
    f.advance(40 * MiB); // after close: nothing
    expect(f.filledBytes).toBe(40 * MiB);
  });

  it('close waits for the reads in flight before closing, and a missing file fills nothing', async () => {
    const dir = testDir('fill');
    const file = join(dir, 'sparse.bin');
    writeFileSync(file, '');
    truncateSync(file, 8 * MiB);
    const before = openFds();
    const f = new PageCacheFiller(file, 8 * MiB);
    f.advance(0); // 4 reads in flight
    await f.close();
    expect(f.filledBytes).toBe(4 * MiB); // the 4 reads completed, then the descriptor was closed
    expect(openFds()).toBe(before);
    const g = new PageCacheFiller(join(dir, 'missing.bin'), 8 * MiB);
    g.advance(0);
    await g.close();
    expect(g.filledBytes).toBe(0);
    expect(openFds()).toBe(before);
  });

  it('stops at a file that shrank under it', async () => {
    const dir = testDir('fill');
    const file = join(dir, 'shrinks.bin');
    writeFileSync(file, '');
    truncateSync(file, 2 * MiB);
    const f = new PageCacheFiller(file, 40 * MiB); // the size it was told, larger than the file
    f.advance(0);
    await f.close();
    expect(f.filledBytes).toBe(2 * MiB);
  });
});

describe('readCapture of a file larger than the fill distance', () => {
  it('delivers every packet in order, as readCaptureSync does, and leaves no descriptor open', async () => {
    const dir = testDir('fill');
    const file = join(dir, 'big.pcap');
    const n = 24_000;
    writePcap(file, n, 1000); // ~24.4 MB: the filler runs
    const syncIds: number[] = [];
    const s1 = readCaptureSync(file, (p) => syncIds.push(p.data[p.offset] | (p.data[p.offset + 1] << 8) | (p.data[p.offset + 2] << 16)));
    const before = openFds();
    const ids: number[] = [];
    const s2 = await readCapture(file, (p) => ids.push(p.data[p.offset] | (p.data[p.offset + 1] << 8) | (p.data[p.offset + 2] << 16)));
    expect(openFds()).toBe(before);
    expect(s2.packets).toBe(n);
    expect(s1.packets).toBe(n);
    expect(ids).toEqual(syncIds);
    expect(ids[n - 1]).toBe(n - 1);
  });
});

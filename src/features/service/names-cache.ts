/**
 * Server-name strings by their bytes: a flow's name (TLS SNI, HTTP Host, DNS question name) is mostly one a recent
 * flow already had (the same site, the same resolver query), and building its string character by character costs
 * an allocation per character plus, downstream, hashing a string never seen before. The cache hands back the very
 * string built for the same bytes earlier, so repeated names cost a hash and a compare of the raw bytes, and the
 * CSV writer's string table finds them by identity.
 */
import { nameText } from './bytes.js';
import { dnsNameText } from './dns.js';

/**
 * Entries of the direct-mapped cache (a power of two), and the longest byte span cached (longer names bypass it).
 * 16,384 entries: with 4,096, the ~4,200 distinct names of the benchmark capture collided often enough that names were
 * rebuilt as new strings (measured while the meter built the names; they are now built where flows are exported).
 */
const ENTRIES = 16384, MAX_BYTES = 64;

/**
 * A direct-mapped cache from (kind, bytes) to the name's text. {@link text} returns exactly what
 * {@link nameText} (`dns` false) or {@link dnsNameText} (`dns` true) return for the same bytes: both are pure
 * functions of the byte span. Memory: 1 MiB of keys plus the cached strings.
 */
export class NameCache {
  private readonly keys = new Uint8Array(ENTRIES * MAX_BYTES);
  /** Per entry: key length in bytes, −1 when empty. */
  private readonly lens = new Int16Array(ENTRIES).fill(-1);
  /** Per entry: 1 when the key is a DNS-encoded name, 0 for plain text. */
  private readonly dns = new Uint8Array(ENTRIES);
  private readonly texts: string[] = new Array<string>(ENTRIES).fill('');

  /**
   * Text of the name at `d[s, s + len)`: a DNS-encoded name (labels, as {@link dnsNameText}) when `dns`, else bytes
   * as text ({@link nameText}). The caller has checked that the span lies within `d`.
   */
  text(d: Uint8Array, s: number, len: number, dns: boolean): string {
    if (len > MAX_BYTES) return dns ? dnsNameText(d, s, len) : nameText(d, s, len);
    const kind = dns ? 1 : 0;
    let h = 0x811c9dc5 ^ kind; // FNV-1a
    for (let i = 0; i < len; i++) h = Math.imul(h ^ d[s + i], 0x01000193);
    const e = (h ^ (h >>> 16)) & (ENTRIES - 1), k = e * MAX_BYTES, keys = this.keys;
    if (this.lens[e] === len && this.dns[e] === kind) {
      let i = 0;
      while (i < len && keys[k + i] === d[s + i]) i++;
      if (i === len) return this.texts[e];
    }
    const t = dns ? dnsNameText(d, s, len) : nameText(d, s, len);
    for (let i = 0; i < len; i++) keys[k + i] = d[s + i];
    this.lens[e] = len;
    this.dns[e] = kind;
    this.texts[e] = t;
    return t;
  }
}

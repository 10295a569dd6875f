/**
 * Flow keys: hashing a packet's 5-tuple (+ VLAN) in a direction-independent way, and formatting addresses.
 * Addresses are held as four 32-bit words (IPv4 in word 3, words 0–2 zero), see {@link DecodedPacket.src}.
 */

/** Murmur3 32-bit finaliser step: mixes `k` into `h` (Appleby, MurmurHash3). */
function mix(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** {@link endpointHash}'s state after three zero words (an IPv4 address's words 0–2): mixed once, not per packet. */
const ZERO3 = mix(mix(mix(0x9747b28c, 0), 0), 0);

/** Hash of one endpoint (address words `a[o..o+3]`, port). */
function endpointHash(a: Uint32Array, o: number, port: number): number {
  let h: number;
  if ((a[o] | a[o + 1] | a[o + 2]) === 0) h = ZERO3; // IPv4: the same value, three mixes fewer
  else {
    h = mix(0x9747b28c, a[o]);
    h = mix(h, a[o + 1]);
    h = mix(h, a[o + 2]);
  }
  h = mix(h, a[o + 3]);
  return fmix(mix(h, port));
}

/**
 * Direction-independent hash of a bidirectional flow key: (endpoint A, endpoint B, protocol, VLAN) and
 * (B, A, protocol, VLAN) hash alike.
 * @returns an unsigned 32-bit hash.
 */
export function biflowHash(
  src: Uint32Array, srcPort: number, dst: Uint32Array, dstPort: number, protocol: number, vlanId: number,
): number {
  const ha = endpointHash(src, 0, srcPort);
  const hb = endpointHash(dst, 0, dstPort);
  const lo = ha < hb ? ha : hb;
  const hi = ha < hb ? hb : ha;
  let h = mix(0x2545f491, lo);
  h = mix(h, hi);
  h = mix(h, protocol | (vlanId << 8));
  return fmix(h);
}

/**
 * Text form of an address held as four words: dotted quad for IPv4 (`ipVersion` 4), RFC 5952 canonical
 * text for IPv6 (lower case, longest run of ≥ 2 zero groups compressed to `::`).
 * @param words address words; `offset` selects the four words to read.
 */
export function formatAddress(words: Uint32Array, offset: number, ipVersion: number): string {
  if (ipVersion === 4) {
    const v = words[offset + 3];
    return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
  }
  const g: number[] = new Array(8);
  for (let i = 0; i < 4; i++) {
    g[2 * i] = words[offset + i] >>> 16;
    g[2 * i + 1] = words[offset + i] & 0xffff;
  }
  // IPv4-mapped (::ffff:a.b.c.d) keeps the dotted form, as RFC 5952 §5 recommends.
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    const v = words[offset + 3];
    return `::ffff:${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
  }
  let bestStart = -1, bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/**
 * Parses an IPv4 dotted quad or IPv6 text address into four words (IPv4 in word 3).
 * @returns the IP version (4 or 6), or 0 when `text` is not an address.
 */
export function parseAddress(text: string, out: Uint32Array): number {
  out.fill(0);
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (v4) {
    const b = v4.slice(1).map(Number);
    if (b.some((x) => x > 255)) return 0;
    out[3] = ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
    return 4;
  }
  if (!/^[0-9a-fA-F:.]+$/.test(text) || !text.includes(':')) return 0;
  let head = text, tail = '';
  const dbl = text.indexOf('::');
  if (dbl >= 0) {
    if (text.indexOf('::', dbl + 1) >= 0) return 0;
    head = text.slice(0, dbl);
    tail = text.slice(dbl + 2);
  }
  const toGroups = (s: string): number[] | null => {
    if (s === '') return [];
    const parts = s.split(':');
    const groups: number[] = [];
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i];
      if (i === parts.length - 1 && p.includes('.')) {
        const w = new Uint32Array(4);
        if (parseAddress(p, w) !== 4) return null;
        groups.push(w[3] >>> 16, w[3] & 0xffff);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(p)) groups.push(parseInt(p, 16));
      else return null;
    }
    return groups;
  };
  const h = toGroups(head), t = toGroups(tail);
  if (!h || !t) return 0;
  const fill = 8 - h.length - t.length;
  if (dbl >= 0 ? fill < 1 : fill !== 0) return 0;
  const groups = [...h, ...new Array(dbl >= 0 ? fill : 0).fill(0), ...t];
  for (let i = 0; i < 4; i++) out[i] = ((groups[2 * i] << 16) | groups[2 * i + 1]) >>> 0;
  return 6;
}

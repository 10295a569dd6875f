/**
 * Shared capture-stage types. A capture reader yields one {@link CapturedPacket} per record; the object is
 * reused between records (zero allocation per packet), so a consumer must copy what it keeps.
 */

/** Link-layer header types (LINKTYPE_* values of the tcpdump.org registry). */
export const LinkType = {
  NULL: 0,
  ETHERNET: 1,
  RAW: 101,
  LOOP: 108,
  LINUX_SLL: 113,
  IEEE802_11_RADIOTAP: 127,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;

/**
 * One captured record, as read from pcap or pcapng.
 *
 * `data[offset .. offset + capLen)` holds the captured bytes; the view is valid only until the callback returns.
 * Timestamps are split into whole seconds and nanoseconds so that nanosecond captures lose nothing
 * (epoch nanoseconds do not fit in a double).
 */
export interface CapturedPacket {
  /** Backing bytes (the reader's chunk or carry buffer); valid only during the callback. */
  data: Uint8Array;
  /** Offset of the first captured byte in `data`. */
  offset: number;
  /** Captured length in bytes (≤ snaplen; the bytes actually present). */
  capLen: number;
  /** Original length on the wire in bytes (pcap orig_len / pcapng original packet length). */
  origLen: number;
  /** Timestamp, whole seconds since the Unix epoch. */
  tsSec: number;
  /** Timestamp, nanoseconds within the second (0 ≤ tsNsec < 1e9). */
  tsNsec: number;
  /** Link type of the record's interface (LINKTYPE_* value). */
  linkType: number;
  /** pcapng interface id (0 for classic pcap). */
  interfaceId: number;
  /** Byte offset of this record's header in the file/stream (for error messages). */
  recordOffset: number;
}

/** Called once per packet, in file order. */
export type PacketCallback = (pkt: CapturedPacket) => void;

/** Summary returned when a capture has been read. */
export interface CaptureSummary {
  /** 'pcap' (classic, µs or ns) or 'pcapng'. */
  format: 'pcap' | 'pcapng';
  /** Packets delivered to the callback. */
  packets: number;
  /** Bytes consumed from the source. */
  bytes: number;
  /** Link types seen (one entry per interface for pcapng). */
  linkTypes: number[];
  /** Snapshot length of the (first) interface. */
  snaplen: number;
  /** Packets whose captured length is below their original length (snaplen-truncated). */
  truncatedPackets: number;
}

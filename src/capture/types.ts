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
  /**
   * Byte offset of the incomplete header/record/block at which the input ended (a truncated file, e.g. a
   * capture still being written or cut by a copy); absent when the input ended on a record boundary.
   * Every complete record before it was delivered.
   */
  truncatedAt?: number;
  /** Human-readable, one-line warnings (truncation, clamped snaplen, normalised timestamps, …); empty when none. */
  warnings: string[];
  /**
   * Finest timestamp precision of the source: 'us' when every timestamp is a whole number of microseconds
   * (µs pcap; pcapng interfaces with if_tsresol 10^-k or 2^-k, k ≤ 6), else 'ns'. A writer that preserves
   * timestamps exactly should use a nanosecond pcap for 'ns'.
   */
  tsResolution: 'us' | 'ns';
}

/**
 * Largest captured length accepted for one record, bytes: libpcap's MAXIMUM_SNAPLEN (pcap-int.h), which is
 * also Wireshark's WTAP_MAX_PACKET_SIZE_STANDARD. A larger captured length is treated as corruption.
 */
export const MAXIMUM_SNAPLEN = 262144;

/** Options of the capture parsers and readers. */
export interface CaptureParseOptions {
  /**
   * When true, input that ends inside a header or record throws a `CaptureError` (code `TRUNCATED`) from
   * `end()`; by default the summary reports `truncatedAt` and a warning instead. Default false.
   */
  strict?: boolean;
  /** Name used in error messages and warnings (default: the path given to the reader, `stdin` for `-`, else `<stream>`). */
  name?: string;
  /**
   * Largest accepted captured length per record, bytes; a larger one is a `CORRUPT` error. Default
   * {@link MAXIMUM_SNAPLEN}; raise it only for link types with bigger frames (libpcap allows 128 MiB for D-Bus).
   */
  maxCapLen?: number;
  /**
   * Called during `push` before the bytes of packets delivered so far can change: after the last packet a chunk
   * delivers (the caller may then reuse the chunk), and before the parser's own buffer for a record that straddles
   * two chunks is rewritten. A consumer that keeps delivered packets' bytes for a while (e.g. FlowMeter with
   * `lookahead`) finishes with them here. Optional.
   */
  onRelease?: () => void;
}

/**
 * A streaming push parser of one capture: feed the bytes in order with `push` (chunks of any size, even
 * 1 byte), then call `end`. Packets are delivered synchronously from within `push` to the callback given at
 * construction, through one reused {@link CapturedPacket}. After any exception (from the parser or from the
 * callback) the parser is unusable: further calls throw.
 */
export interface CaptureParser {
  /**
   * Parses `chunk` (the next bytes of the stream). The parser does not keep a reference to `chunk` after
   * returning (bytes of a record that continues in the next chunk are copied), so the caller may reuse it.
   * @throws CaptureError on a bad magic number or a corrupt length field (packets before it stay delivered)
   */
  push(chunk: Uint8Array): void;
  /**
   * Declares the end of the input and returns the summary.
   * @throws CaptureError `EMPTY`/`NOT_CAPTURE` for input without a capture header, `TRUNCATED` in strict mode
   */
  end(): CaptureSummary;
}

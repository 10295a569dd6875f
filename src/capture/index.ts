/** The capture stage: reading pcap/pcapng captures packet by packet, and writing classic pcap. */
export * from './types.js';
export * from './errors.js';
export { PcapParser, PcapMagic, sniffCaptureFormat, PCAP_FILE_HEADER_LEN, PCAP_RECORD_HEADER_LEN } from './pcap.js';
export { PcapngParser, PcapngBlock, PCAPNG_MAX_BLOCK_LEN } from './pcapng.js';
export {
  AutoCaptureParser,
  createCaptureParser,
  readCapture,
  readCaptureStream,
  readCaptureSync,
  DEFAULT_READ_BUFFER,
  type ReadCaptureOptions,
} from './reader.js';
export { PcapWriter, type PcapWriterOptions } from './writer.js';

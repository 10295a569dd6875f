/**
 * Text protocols with an HTTP-style start line: HTTP/1.x, RTSP, SIP and SSDP, and the HTTP `Host` header.
 *
 * Formats:
 * - HTTP/0.9 Simple-Request (RFC 1945 §4.1): "GET" SP Request-URI CRLF, no version.
 * - HTTP/1.1 (RFC 9112 §3): request-line = method SP request-target SP HTTP-version CRLF; §4: status-line =
 *   HTTP-version SP status-code SP [reason-phrase] CRLF, HTTP-version = "HTTP/" DIGIT "." DIGIT; §5 header
 *   fields; Host (RFC 9110 §7.2). HTTP/2 prior-knowledge preface "PRI * HTTP/2.0" (RFC 9113 §3.4).
 * - RTSP 1.0/2.0 (RFC 2326 §6.1/§7.1, RFC 7826 §8): same shape, version "RTSP/1.0" / "RTSP/2.0".
 * - SIP (RFC 3261 §7.1/§7.2): Request-Line = Method SP Request-URI SP "SIP/2.0"; Status-Line "SIP/2.0" SP code.
 * - SSDP (UPnP Device Architecture 2.0 §1.3): HTTPU over UDP, "M-SEARCH * HTTP/1.1", "NOTIFY * HTTP/1.1" and
 *   the unicast "HTTP/1.1 200 OK" search response.
 *
 * A start line cut by the snaplen before its version is still HTTP when the method is a registered HTTP
 * method and the target starts with `/` or `http` (absolute form). A request in absolute form `http://…`
 * (RFC 9112 §3.2.2, sent to proxies) is HTTP_Proxy, as nDPI names it.
 */
import { ascii, isDigit, isUpper, startsWith, startsWithCI } from './bytes.js';
import { Svc } from './names.js';

const HTTP_SLASH = ascii('HTTP/');
const RTSP_SLASH = ascii('RTSP/');
const SIP_SLASH = ascii('SIP/2.0');
const PRI = ascii('PRI * HTTP/2.0');
const M_SEARCH = ascii('M-SEARCH');
const NOTIFY = ascii('NOTIFY');
const SIP_URI = ascii('sip:');
const SIPS_URI = ascii('sips:');
const RTSP_URI = ascii('rtsp://');
const HTTP_URI = ascii('http');
const HTTP_ABS = ascii('http://');

/** HTTP methods (IANA "HTTP Method Registry": RFC 9110 §9 and WebDAV), as byte patterns with their SP. */
const HTTP_METHODS = [
  'GET', 'POST', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'CONNECT', 'TRACE', 'PATCH', 'PROPFIND', 'PROPPATCH', 'MKCOL',
  'COPY', 'MOVE', 'LOCK', 'UNLOCK', 'REPORT', 'SEARCH', 'MKCALENDAR', 'CHECKOUT', 'MERGE', 'SUBSCRIBE',
  'UNSUBSCRIBE', 'NOTIFY', 'PURGE',
].map((m) => ascii(`${m} `));

/** Longest method token accepted. */
const MAX_METHOD = 16;

/**
 * Classifies a start line at `d[o]`: a request (method SP target SP version) or a status line.
 * @param udp true for a UDP payload (HTTP over UDP is SSDP)
 * @returns {@link Svc}.HTTP, HTTP_PROXY, RTSP, SIP or SSDP; 0 when the payload does not start with such a line
 */
export function startLine(d: Uint8Array, o: number, n: number, udp: boolean): number {
  if (n < 8) return Svc.NONE;
  // Status lines.
  if (startsWith(d, o, n, HTTP_SLASH)) {
    return versionDigits(d, o + 5, n - 5) && statusCode(d, o + 8, n - 8) ? (udp ? Svc.SSDP : Svc.HTTP) : Svc.NONE;
  }
  if (startsWith(d, o, n, RTSP_SLASH)) return versionDigits(d, o + 5, n - 5) && statusCode(d, o + 8, n - 8) ? Svc.RTSP : Svc.NONE;
  if (startsWith(d, o, n, SIP_SLASH)) return statusCode(d, o + 7, n - 7) ? Svc.SIP : Svc.NONE;
  if (!udp && startsWith(d, o, n, PRI)) return Svc.HTTP;
  // Request line: method token of upper-case letters, '-' or '_'.
  let i = 0;
  const mmax = n < MAX_METHOD + 1 ? n : MAX_METHOD + 1;
  while (i < mmax) {
    const c = d[o + i];
    if (c === 0x20) break;
    if (!isUpper(c) && c !== 0x2d && c !== 0x5f) return Svc.NONE;
    i++;
  }
  if (i === 0 || i >= mmax) return Svc.NONE;
  const t = o + i + 1, end = o + n; // request target starts at t
  if (t >= end) return Svc.NONE;
  // Find the end of the target (SP), refusing control bytes: targets are visible ASCII (RFC 9112 §3.2); raw
  // bytes ≥ 0x80 (unencoded UTF-8, common in attack traffic) are tolerated.
  let p = t;
  while (p < end && d[p] > 0x20 && d[p] !== 0x7f) p++;
  if (p === t) return Svc.NONE;
  if (p < end) {
    // HTTP/0.9 Simple-Request "GET" SP Request-URI CRLF (RFC 1945 §4.1)
    if (!udp && (d[p] === 0x0d || d[p] === 0x0a) && i === 3 && startsWith(d, o, n, HTTP_METHODS[0]) && d[t] === 0x2f) return Svc.HTTP;
    if (d[p] !== 0x20) return Svc.NONE;
    const v = p + 1, vn = end - v;
    if (startsWith(d, v, vn, HTTP_SLASH)) {
      if (vn >= 8 && !versionDigits(d, v + 5, vn - 5)) return Svc.NONE;
      if (!udp) return httpOrProxy(d, t, end - t);
      return startsWith(d, o, n, M_SEARCH) || startsWith(d, o, n, NOTIFY) ? Svc.SSDP : Svc.NONE;
    }
    if (startsWith(d, v, vn, RTSP_SLASH)) return Svc.RTSP;
    if (startsWith(d, v, vn, SIP_SLASH)) return Svc.SIP;
    if (vn >= 8) return Svc.NONE;
  }
  // The line is cut before a complete version: decide from the method and the target.
  if (startsWithCI(d, t, end - t, SIP_URI) || startsWithCI(d, t, end - t, SIPS_URI)) return Svc.SIP;
  if (startsWithCI(d, t, end - t, RTSP_URI)) return Svc.RTSP;
  if (udp) return Svc.NONE;
  if (d[t] !== 0x2f && !startsWithCI(d, t, end - t, HTTP_URI)) return Svc.NONE;
  for (const m of HTTP_METHODS) if (m.length === i + 1 && startsWith(d, o, n, m)) return httpOrProxy(d, t, end - t);
  return Svc.NONE;
}

/**
 * HTTP, or HTTP_Proxy (nDPI's name) for a request in absolute form `http://…`, the form a client sends to a
 * proxy (RFC 9112 §3.2.2).
 */
function httpOrProxy(d: Uint8Array, t: number, n: number): number {
  return startsWithCI(d, t, n, HTTP_ABS) ? Svc.HTTP_PROXY : Svc.HTTP;
}

/** `DIGIT "." DIGIT` at `d[p]` when captured (a cut version is not refused). */
function versionDigits(d: Uint8Array, p: number, n: number): boolean {
  if (n >= 1 && !isDigit(d[p])) return false;
  if (n >= 2 && d[p + 1] !== 0x2e) return false;
  return n < 3 || isDigit(d[p + 2]);
}

/** `SP 3DIGIT` at `d[p]` when captured. */
function statusCode(d: Uint8Array, p: number, n: number): boolean {
  if (n >= 1 && d[p] !== 0x20) return false;
  for (let k = 1; k <= 3 && k < n; k++) if (!isDigit(d[p + k])) return false;
  return true;
}

const HOST = ascii('host:');

/**
 * Finds the value of the first `Host` header field in `d[o, o + n)`: at the start of the window when
 * `atLineStart`, or after any LF. The value (optional whitespace trimmed, a `:port` suffix dropped) must
 * end with CR or LF within the window, so a name cut by the snaplen is not reported.
 * @param out receives [offset in `d`, length], or [-1, 0]
 * @returns true when found
 */
export function findHost(d: Uint8Array, o: number, n: number, atLineStart: boolean, out: Int32Array): boolean {
  out[0] = -1;
  out[1] = 0;
  const end = o + n;
  let line = atLineStart ? o : -1;
  for (let p = o; p < end; p++) {
    if (p === line && startsWithCI(d, p, end - p, HOST)) return hostValue(d, p + 5, end, out);
    if (d[p] === 0x0a) line = p + 1;
  }
  return false;
}

function hostValue(d: Uint8Array, p: number, end: number, out: Int32Array): boolean {
  while (p < end && (d[p] === 0x20 || d[p] === 0x09)) p++;
  const s = p;
  while (p < end && d[p] !== 0x0d && d[p] !== 0x0a) p++;
  if (p >= end) return false; // cut: no line end captured
  let e = p;
  while (e > s && (d[e - 1] === 0x20 || d[e - 1] === 0x09)) e--;
  // Drop ":port" (not inside an IPv6 literal: "[::1]:8080" keeps "[::1]").
  for (let k = e - 1; k > s; k--) {
    const c = d[k];
    if (c === 0x3a) { if (d[s] !== 0x5b || d[k - 1] === 0x5d) e = k; break; }
    if (!isDigit(c)) break;
  }
  if (e === s) return false;
  out[0] = s;
  out[1] = e - s;
  return true;
}

// Reads model and stream from a JSON request body and adds stream_options.include_usage for streams (decision A1).
import { skipSpace, bytesEqual, readMember, JsonMember } from "./json-bytes";
import { decodeUtf8Recent } from "../text/utf8";

const INSERT_ROOT_MEMBER = ',"stream_options":{"include_usage":true}';
const INSERT_OPTIONS_OBJECT = '{"include_usage":true}';
const INSERT_FIRST_OPTION = '"include_usage":true,';
const INSERT_ONLY_OPTION = '"include_usage":true';
const TRUE_TEXT = "true";

/** What the request body asks for; valid is false when the body is not a JSON object. */
export class RequestInfo {
  valid: bool = false;
  model: string = "";
  stream: bool = false;
  /** True when stream_options.include_usage is already true. */
  includeUsage: bool = false;
  rootEnd: i32 = -1;
  optionsStart: i32 = -1;
  optionsEnd: i32 = -1;
  includeUsageStart: i32 = -1;
  includeUsageEnd: i32 = -1;
}

// One request body is read at a time: its members are read into these, the root's and the
// stream_options object's apart because the second is read while the first is in use.
const rootMember = new JsonMember();
const optionsMember = new JsonMember();

/** Reads the top-level model, stream and stream_options of the JSON body of `end` bytes at `ptr`; never traps on bad JSON. */
export function readRequestInfoAt(ptr: usize, end: i32): RequestInfo {
  const info = new RequestInfo();
  let pos = skipSpace(ptr, end, 0);
  if (pos >= end || load<u8>(ptr + <usize>pos) != 0x7b) return info;
  pos = skipSpace(ptr, end, pos + 1);
  if (pos < end && load<u8>(ptr + <usize>pos) == 0x7d) {
    info.valid = true;
    info.rootEnd = pos;
    return info;
  }
  const member = rootMember;
  pos--;
  while (true) {
    if (!readMember(ptr, end, pos + 1, member)) return info;
    const ks = member.keyStart;
    const ke = member.keyEnd;
    const vs = member.valueStart;
    const ve = member.valueEnd;
    if (bytesEqual(ptr, ks, ke, "model")) {
      info.model = load<u8>(ptr + <usize>vs) == 0x22 ? decodeUtf8Recent(ptr + <usize>(vs + 1), <usize>(ve - vs - 2)) : "";
    } else if (bytesEqual(ptr, ks, ke, "stream")) {
      info.stream = bytesEqual(ptr, vs, ve, TRUE_TEXT);
    } else if (bytesEqual(ptr, ks, ke, "stream_options")) {
      info.optionsStart = vs;
      info.optionsEnd = ve;
      readStreamOptions(ptr, info);
    }
    pos = member.next;
    const c = load<u8>(ptr + <usize>pos);
    if (c == 0x7d) break;
    if (c != 0x2c) return info;
  }
  info.rootEnd = pos;
  info.valid = true;
  return info;
}

function readStreamOptions(ptr: usize, info: RequestInfo): void {
  info.includeUsageStart = -1;
  info.includeUsage = false;
  const start = info.optionsStart;
  const end = info.optionsEnd;
  if (load<u8>(ptr + <usize>start) != 0x7b) return;
  let pos = skipSpace(ptr, end, start + 1);
  if (load<u8>(ptr + <usize>pos) == 0x7d) return;
  const member = optionsMember;
  pos--;
  while (readMember(ptr, end, pos + 1, member)) {
    if (bytesEqual(ptr, member.keyStart, member.keyEnd, "include_usage")) {
      info.includeUsageStart = member.valueStart;
      info.includeUsageEnd = member.valueEnd;
      info.includeUsage = bytesEqual(ptr, member.valueStart, member.valueEnd, TRUE_TEXT);
    }
    pos = member.next;
    if (load<u8>(ptr + <usize>pos) != 0x2c) return;
  }
}

/**
 * Returns a new body (the `length` bytes at `ptr` with stream_options.include_usage set to true)
 * for a streaming request, or null when nothing must change (not a stream, already true, or not a
 * JSON object). An explicit false is overridden: the plugin must see usage to charge, and the
 * client only gains one extra final chunk.
 */
export function injectStreamUsageAt(ptr: usize, length: i32, info: RequestInfo): ArrayBuffer | null {
  if (!info.valid || !info.stream || info.includeUsage) return null;
  if (info.includeUsageStart >= 0) return splice(ptr, length, info.includeUsageStart, info.includeUsageEnd, TRUE_TEXT);
  if (info.optionsStart >= 0) {
    if (load<u8>(ptr + <usize>info.optionsStart) != 0x7b) {
      return splice(ptr, length, info.optionsStart, info.optionsEnd, INSERT_OPTIONS_OBJECT);
    }
    const inner = skipSpace(ptr, info.optionsEnd, info.optionsStart + 1);
    const empty = load<u8>(ptr + <usize>inner) == 0x7d;
    const at = info.optionsStart + 1;
    return splice(ptr, length, at, at, empty ? INSERT_ONLY_OPTION : INSERT_FIRST_OPTION);
  }
  return splice(ptr, length, info.rootEnd, info.rootEnd, INSERT_ROOT_MEMBER);
}

/** The `length` bytes at `src` with bytes [start, end) replaced by the ASCII text, as a new buffer. */
function splice(src: usize, length: i32, start: i32, end: i32, text: string): ArrayBuffer {
  const size = length - (end - start) + text.length;
  const out = new ArrayBuffer(size);
  const dst = changetype<usize>(out);
  memory.copy(dst, src, <usize>start);
  for (let i = 0; i < text.length; i++) store<u8>(dst + <usize>(start + i), <u8>load<u16>(changetype<usize>(text) + (<usize>i << 1)));
  memory.copy(dst + <usize>(start + text.length), src + <usize>end, <usize>(length - end));
  return out;
}

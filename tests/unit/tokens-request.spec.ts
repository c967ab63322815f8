/// <reference path="./as-pect.d.ts" />
// Unit tests of the request-body model/stream reader, the stream_options injection, how a body
// starts and the content-type check.
import { RequestInfo, readRequestInfoAt, injectStreamUsageAt, REFUSE_NONE, REFUSE_ENCODING, REFUSE_KEY, REFUSE_STREAM } from "../../shared/tokens/request-body";
import { START_MORE, START_OBJECT, START_OTHER, START_WIDE, requestBodyStart, readableRequestEncoding } from "../../shared/tokens/request-start";
import { shouldReadUsage } from "../../shared/tokens/content-type";

function readRequestInfo(body: ArrayBuffer): RequestInfo {
  return readRequestInfoAt(changetype<usize>(body), body.byteLength);
}

function read(text: string): RequestInfo {
  return readRequestInfo(String.UTF8.encode(text));
}

function injectedBytes(body: ArrayBuffer): string {
  const out = injectStreamUsageAt(changetype<usize>(body), body.byteLength, readRequestInfo(body));
  return out == null ? "unchanged" : String.UTF8.decode(out);
}

function injected(text: string): string {
  return injectedBytes(String.UTF8.encode(text));
}

/** The UTF-8 of `before`, the raw bytes, then the UTF-8 of `after`: for bytes no string literal holds. */
function withBytes(before: string, raw: Array<u8>, after: string): ArrayBuffer {
  const head = String.UTF8.encode(before);
  const tail = String.UTF8.encode(after);
  const out = new ArrayBuffer(head.byteLength + raw.length + tail.byteLength);
  const dst = changetype<usize>(out);
  memory.copy(dst, changetype<usize>(head), <usize>head.byteLength);
  for (let i = 0; i < raw.length; i++) store<u8>(dst + <usize>(head.byteLength + i), raw[i]);
  memory.copy(dst + <usize>(head.byteLength + raw.length), changetype<usize>(tail), <usize>tail.byteLength);
  return out;
}

/** The text in UTF-16 (little or big endian), with a byte-order mark when asked. */
function utf16(text: string, big: bool, mark: bool): ArrayBuffer {
  const offset = mark ? 2 : 0;
  const out = new ArrayBuffer(offset + text.length * 2);
  const dst = changetype<usize>(out);
  if (mark) {
    store<u8>(dst, big ? 0xfe : 0xff);
    store<u8>(dst + 1, big ? 0xff : 0xfe);
  }
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    store<u8>(dst + <usize>(offset + 2 * i), <u8>(big ? unit >> 8 : unit));
    store<u8>(dst + <usize>(offset + 2 * i + 1), <u8>(big ? unit : unit >> 8));
  }
  return out;
}

/** The text in UTF-32 little endian. */
function utf32le(text: string): ArrayBuffer {
  const out = new ArrayBuffer(text.length * 4);
  for (let i = 0; i < text.length; i++) store<u8>(changetype<usize>(out) + <usize>(4 * i), <u8>text.charCodeAt(i));
  return out;
}

function startOf(body: ArrayBuffer, ended: bool): i32 {
  return requestBodyStart(changetype<usize>(body), body.byteLength, ended);
}

describe("request body reader", () => {
  it("reads model and stream from a chat request", () => {
    const info = readRequestInfo(String.UTF8.encode('{"model":"gpt-4o","messages":[{"role":"user","content":"a \\"}"}],"stream":true}'));
    expect(info.valid).toBe(true);
    expect(info.model).toBe("gpt-4o");
    expect(info.stream).toBe(true);
  });

  it("reports an invalid body without trapping", () => {
    expect(readRequestInfo(String.UTF8.encode('{"model":"gpt-4o","stream":tr')).valid).toBe(false);
    expect(readRequestInfo(String.UTF8.encode('[1,2]')).valid).toBe(false);
    expect(readRequestInfo(String.UTF8.encode('')).valid).toBe(false);
    expect(readRequestInfo(String.UTF8.encode('{"a" 1}')).valid).toBe(false);
    expect(readRequestInfo(String.UTF8.encode('{"a":"\\')).valid).toBe(false);
  });

  it("treats a missing or false stream as not streaming", () => {
    expect(readRequestInfo(String.UTF8.encode('{"model":"m","stream":false}')).stream).toBe(false);
    expect(readRequestInfo(String.UTF8.encode('{"model":"m"}')).stream).toBe(false);
  });
});

describe("request body keys and values, read as the upstream reads them", () => {
  it("compares every key it reads after unescaping: model, stream, stream_options, include_usage", () => {
    const info = read('{"mod\\u0065l":"m","\\u0073tr\\u0065am":true}');
    expect(info.model).toBe("m");
    expect(info.stream).toBe(true);
    expect(injected('{"str\\u0065am":true}')).toBe('{"str\\u0065am":true,"stream_options":{"include_usage":true}}');
    expect(injected('{"stream":true,"stream\\u005foptions":{"include_usage":true}}')).toBe("unchanged");
    expect(injected('{"stream":true,"stream\\u005Foptions":{"x":1}}')).toBe('{"stream":true,"stream\\u005Foptions":{"include_usage":true,"x":1}}');
    expect(injected('{"stream":true,"stream_options":{"include\\u005fusage":false}}')).toBe('{"stream":true,"stream_options":{"include\\u005fusage":true}}');
    expect(injected('{"stream":true,"stream_options":{"\\u0069nclude_usage":true}}')).toBe("unchanged");
  });

  it("reads the simple escapes, surrogate pairs and UTF-8 in keys that are not ours, and still finds ours", () => {
    expect(read('{"a\\n\\t\\"\\\\\\/\\b\\f\\r":1,"stream":true}').stream).toBe(true);
    expect(read('{"\\ud83d\\ude00":1,"😀":2,"modèle":"x","stream":true}').stream).toBe(true);
    expect(read('{"' + "stream".repeat(200) + '":false,"stream":true}').stream).toBe(true);
    expect(read('{"stream\\u0000":false,"stream":true}').stream).toBe(true);
    expect(read('{"streams":true}').stream).toBe(false);
  });

  it("unescapes the model value", () => {
    expect(read('{"model":"qwen\\u002dmax"}').model).toBe("qwen-max");
    expect(read('{"model":"\\u6a21\\u578b \\"q\\" \\ud83d\\ude00 é"}').model).toBe('模型 "q" 😀 é');
    expect(read('{"model":"a\\qb"}').model).toBe("a\ufffdb");
    expect(read('{"model":"qwen-max"}').model).toBe("qwen-max");
    expect(read('{"model":7}').model).toBe("");
  });

  it("takes the last of repeated keys, at the root and inside stream_options", () => {
    expect(read('{"stream":false,"stream":true}').stream).toBe(true);
    expect(injected('{"stream":true,"stream":false}')).toBe("unchanged");
    expect(read('{"model":"a","model":"b"}').model).toBe("b");
    expect(injected('{"stream":false,"messages":[],"str\\u0065am":true}')).toBe('{"stream":false,"messages":[],"str\\u0065am":true,"stream_options":{"include_usage":true}}');
  });

  it("changes the stream_options and include_usage a last-wins parser uses", () => {
    expect(injected('{"stream":true,"stream_options":{"include_usage":true},"stream_options":{"include_usage":false}}'))
      .toBe('{"stream":true,"stream_options":{"include_usage":true},"stream_options":{"include_usage":true}}');
    expect(injected('{"stream":true,"stream_options":{"include_usage":true},"stream_options":{"x":1}}'))
      .toBe('{"stream":true,"stream_options":{"include_usage":true},"stream_options":{"include_usage":true,"x":1}}');
    expect(injected('{"stream":true,"stream_options":{"include_usage":true},"stream_options":null}'))
      .toBe('{"stream":true,"stream_options":{"include_usage":true},"stream_options":{"include_usage":true}}');
    expect(injected('{"stream":true,"stream_options":{"include_usage":false},"stream_options":{"include_usage":true}}')).toBe("unchanged");
    expect(injected('{"stream":true,"stream_options":{"include_usage":true,"include_usage":false}}'))
      .toBe('{"stream":true,"stream_options":{"include_usage":true,"include_usage":true}}');
    expect(injected('{"stream":true,"stream_options":{"include_usage":false,"include_usage":true}}')).toBe("unchanged");
    expect(injected('{"stream":true,"stream_options":{"include_usage":false,"include\\u005fusage":0}}'))
      .toBe('{"stream":true,"stream_options":{"include_usage":false,"include\\u005fusage":true}}');
  });

  it("reads a body that starts with a UTF-8 byte-order mark, as Python's json and Node's body parsers do", () => {
    const body = withBytes("", [0xef, 0xbb, 0xbf], ' {"stream":true}');
    expect(readRequestInfo(body).stream).toBe(true);
    expect(injectedBytes(body)).toBe("\ufeff" + ' {"stream":true,"stream_options":{"include_usage":true}}');
  });
});

describe("request bodies refused because upstreams would read them differently", () => {
  it("refuses a key that is not valid Unicode: lone surrogates, bad escapes, invalid UTF-8", () => {
    const texts = ['{"\\ud800":1}', '{"stream\\udc00":true}', '{"\\ud800\\u0041":1}', '{"\\ud800x":1}', '{"a\\x":1}', '{"\\u12":1}', '{"\\u12g4":1}', '{"stream":true,"stream_options":{"\\udfff":1}}'];
    for (let i = 0; i < texts.length; i++) {
      const info = read(texts[i]);
      expect(info.refusal).toBe(REFUSE_KEY, texts[i]);
      expect(info.valid).toBe(false);
      expect(injected(texts[i])).toBe("unchanged");
    }
    const raws: Array<Array<u8>> = [[0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe6, 0xa8], [0xf4, 0x90, 0x80, 0x80], [0x80], [0xc3]];
    for (let i = 0; i < raws.length; i++) {
      expect(readRequestInfo(withBytes('{"str', raws[i], 'eam":true}')).refusal).toBe(REFUSE_KEY);
      expect(readRequestInfo(withBytes('{"stream":true,"stream_options":{"', raws[i], '":1}}')).refusal).toBe(REFUSE_KEY);
    }
    expect(readRequestInfo(withBytes('{"model":"', [0xff], '","stream":true}')).refusal).toBe(REFUSE_NONE, "a value the plugin only labels with");
  });

  it("refuses a key that is one of ours only when case is ignored, as Go's encoding/json matches it", () => {
    const texts = [
      '{"Stream":true}', '{"STREAM":true}', '{"\\u0053tream":true}', '{"ſtream":true}', '{"\\u017ftream":true}', '{"Model":"m"}',
      '{"stream":true,"Stream_Options":{}}', '{"stream":true,"stream_options":{"Include_Usage":false}}', '{"stream":true,"stream_options":{"include_uſage":false}}',
    ];
    for (let i = 0; i < texts.length; i++) expect(read(texts[i]).refusal).toBe(REFUSE_KEY, texts[i]);
    expect(read('{"streamS":true,"MESSAGES":[]}').refusal).toBe(REFUSE_NONE);
  });

  it("refuses a stream that is neither true, false nor null; null is not a stream", () => {
    const texts = ['{"stream":"true"}', '{"stream":1}', '{"stream":0}', '{"stream":[]}', '{"stream":{}}', '{"stream":True}', '{"stream":false,"stream":"yes"}'];
    for (let i = 0; i < texts.length; i++) expect(read(texts[i]).refusal).toBe(REFUSE_STREAM, texts[i]);
    const empty = read('{"stream":null}');
    expect(empty.refusal).toBe(REFUSE_NONE);
    expect(empty.stream).toBe(false);
    expect(read('{"stream":false}').refusal).toBe(REFUSE_NONE);
  });

  it("refuses a JSON object in UTF-16 or UTF-32, with or without a byte-order mark", () => {
    const json = '{"stream":true}';
    expect(readRequestInfo(utf16(json, false, false)).refusal).toBe(REFUSE_ENCODING);
    expect(readRequestInfo(utf16(json, true, false)).refusal).toBe(REFUSE_ENCODING);
    expect(readRequestInfo(utf16(" " + json, false, true)).refusal).toBe(REFUSE_ENCODING);
    expect(readRequestInfo(utf16(json, true, true)).refusal).toBe(REFUSE_ENCODING);
    expect(readRequestInfo(utf32le(json)).refusal).toBe(REFUSE_ENCODING);
    expect(readRequestInfo(utf16("[1]", false, false)).refusal).toBe(REFUSE_NONE, "not an object: passes");
  });
});

describe("output limits, which size a reservation", () => {
  it("reads the largest of max_tokens, max_completion_tokens and max_output_tokens, and n", () => {
    expect(read('{"model":"m"}').maxOutputTokens).toBe(-1);
    expect(read('{"max_tokens":100}').maxOutputTokens).toBe(100);
    expect(read('{"max_completion_tokens":7,"max_tokens":30}').maxOutputTokens).toBe(30);
    expect(read('{"max_output_tokens":512,"max_tokens":30}').maxOutputTokens).toBe(512);
    expect(read('{"max_tokens":0}').maxOutputTokens).toBe(0);
    expect(read('{"max_tokens":null}').maxOutputTokens).toBe(-1);
    expect(read('{"n":3,"max_tokens":10}').choices).toBe(3);
    expect(read('{"n":0}').choices).toBe(1);
    expect(read('{"model":"m"}').choices).toBe(1);
  });

  it("keeps the last of a repeated key, as upstreams do, and a null one clears it", () => {
    expect(read('{"max_tokens":5000,"max_tokens":5}').maxOutputTokens).toBe(5);
    expect(read('{"max_tokens":5,"max_tokens":5000}').maxOutputTokens).toBe(5000);
    expect(read('{"max_tokens":5,"max_tokens":null}').maxOutputTokens).toBe(-1);
    expect(read('{"n":4,"n":2}').choices).toBe(2);
    expect(read('{"max_\u0074okens":9}').maxOutputTokens).toBe(9, "compared after unescaping");
  });

  it("caps a huge limit instead of overflowing", () => {
    expect(read('{"max_tokens":99999999999999999999999999}').maxOutputTokens).toBe(1_000_000_000_000);
  });

  it("marks limits upstreams may read differently, without refusing the body itself", () => {
    const texts = ['{"max_tokens":"100"}', '{"max_tokens":1e3}', '{"max_tokens":10.0}', '{"max_tokens":-1}', '{"max_tokens":true}', '{"n":"2"}', '{"MAX_TOKENS":5}', '{"Max_Completion_Tokens":5}', '{"N":2}', '{"max_tokens":5,"Max_Tokens":50000}'];
    for (let i = 0; i < texts.length; i++) {
      const info = read(texts[i]);
      expect(info.limitUndecidable).toBe(true, texts[i]);
      expect(info.refusal).toBe(REFUSE_NONE, texts[i]);
    }
    expect(read('{"max_tokens":5,"stream_options":{"max_tokens":"x"}}').limitUndecidable).toBe(false, "only top-level limits count");
    expect(read('{"max_tokens":5}').limitUndecidable).toBe(false);
  });
});

describe("requestBodyStart", () => {
  it("waits for four bytes, or for more while only whitespace has come", () => {
    expect(startOf(String.UTF8.encode("{"), false)).toBe(START_MORE);
    expect(startOf(String.UTF8.encode("{"), true)).toBe(START_OBJECT);
    expect(startOf(String.UTF8.encode(" \r\n\t "), false)).toBe(START_MORE);
    expect(startOf(String.UTF8.encode(" \r\n\t "), true)).toBe(START_OTHER);
    expect(startOf(String.UTF8.encode(""), true)).toBe(START_OTHER);
    expect(startOf(withBytes("", [0xef, 0xbb], ""), false)).toBe(START_MORE);
    expect(startOf(withBytes("", [0xef, 0xbb, 0xbf], "  {"), false)).toBe(START_OBJECT);
  });

  it("tells objects from other bodies and wide encodings, as Python's json detects them", () => {
    expect(startOf(String.UTF8.encode('\n {"a":1'), false)).toBe(START_OBJECT);
    expect(startOf(String.UTF8.encode("--boundary\r\n"), false)).toBe(START_OTHER);
    expect(startOf(String.UTF8.encode("consumer=u"), false)).toBe(START_OTHER);
    expect(startOf(String.UTF8.encode('[{"stream":true}]'), false)).toBe(START_OTHER);
    expect(startOf(utf16('{"a', false, false), false)).toBe(START_WIDE);
    expect(startOf(utf16('  {"a', true, false), false)).toBe(START_WIDE);
    expect(startOf(utf16("{", true, true), false)).toBe(START_WIDE);
    expect(startOf(utf32le("{"), false)).toBe(START_WIDE);
    expect(startOf(withBytes("", [0, 0, 0xfe, 0xff, 0, 0, 0, 0x7b], ""), false)).toBe(START_WIDE);
    expect(startOf(withBytes("", [0, 1, 2, 3], ""), false)).toBe(START_OTHER);
    expect(startOf(withBytes("", [0x7b, 0], ""), true)).toBe(START_WIDE);
  });
});

describe("readableRequestEncoding", () => {
  it("reads bodies sent as they are, in UTF-8", () => {
    expect(readableRequestEncoding(null, null)).toBe(true);
    expect(readableRequestEncoding(" Identity ", "application/json")).toBe(true);
    expect(readableRequestEncoding("", "application/json; charset=utf-8")).toBe(true);
    expect(readableRequestEncoding(null, 'application/json;Charset="UTF-8"')).toBe(true);
    expect(readableRequestEncoding(null, "text/plain; charset=us-ascii; format=flowed")).toBe(true);
    expect(readableRequestEncoding(null, "multipart/form-data; boundary=x")).toBe(true);
  });

  it("does not read a content-encoding or another charset", () => {
    expect(readableRequestEncoding("gzip", "application/json")).toBe(false);
    expect(readableRequestEncoding("br", null)).toBe(false);
    expect(readableRequestEncoding("identity, gzip", null)).toBe(false);
    expect(readableRequestEncoding(null, "application/json; charset=utf-16")).toBe(false);
    expect(readableRequestEncoding(null, "application/json; charset=utf-7")).toBe(false);
    expect(readableRequestEncoding(null, "text/plain; charset=iso-8859-1")).toBe(false);
  });
});

describe("stream usage injection", () => {
  it("adds stream_options when a stream does not ask for usage, keeping the rest byte-identical", () => {
    expect(injected('{"model":"m", "stream": true }')).toBe('{"model":"m", "stream": true ,"stream_options":{"include_usage":true}}');
  });

  it("adds include_usage to existing stream_options fields", () => {
    expect(injected('{"stream":true,"stream_options":{"x":1}}')).toBe('{"stream":true,"stream_options":{"include_usage":true,"x":1}}');
    expect(injected('{"stream":true,"stream_options":{ }}')).toBe('{"stream":true,"stream_options":{"include_usage":true }}');
  });

  it("sets an explicit include_usage false to true so the stream can be charged", () => {
    expect(injected('{"stream":true,"stream_options":{"include_usage":false,"y":2}}')).toBe('{"stream":true,"stream_options":{"include_usage":true,"y":2}}');
  });

  it("replaces a null stream_options with an include_usage object", () => {
    expect(injected('{"stream":true,"stream_options":null}')).toBe('{"stream":true,"stream_options":{"include_usage":true}}');
  });

  it("leaves a body unchanged when usage is already requested, the request does not stream, or the JSON is bad", () => {
    expect(injected('{"stream":true,"stream_options":{"include_usage":true}}')).toBe("unchanged");
    expect(injected('{"model":"m","stream":false}')).toBe("unchanged");
    expect(injected('{"stream":true,')).toBe("unchanged");
  });

  it("never traps on random request bodies", () => {
    let seed: u32 = 99;
    const alphabet = '{}[]":, truefalsnl0123456789\\stream_options';
    for (let round = 0; round < 500; round++) {
      let text = '{"stream":true';
      for (let i = 0; i < 30; i++) {
        seed = seed * 1103515245 + 12345;
        text += alphabet.charAt(<i32>((seed >> 8) % <u32>alphabet.length));
      }
      injected(text);
    }
    expect(injected('{"stream":true}')).toBe('{"stream":true,"stream_options":{"include_usage":true}}');
  });
});

describe("shouldReadUsage", () => {
  it("reads uncompressed JSON and event streams", () => {
    expect(shouldReadUsage("application/json; charset=utf-8", null)).toBe(true);
    expect(shouldReadUsage("text/event-stream", "identity")).toBe(true);
    expect(shouldReadUsage(null, null)).toBe(true);
  });

  it("compares media types and encodings without regard to case or surrounding spaces", () => {
    expect(shouldReadUsage(" Application/JSON ", " IDENTITY")).toBe(true);
    expect(shouldReadUsage("TEXT/EVENT-STREAM", null)).toBe(true);
    expect(shouldReadUsage("Text/Plain; charset=utf-8", "")).toBe(true);
    expect(shouldReadUsage("application/octet-stream; note=text/plain", null)).toBe(false);
    expect(shouldReadUsage("application/json", "GZIP")).toBe(false);
    expect(shouldReadUsage("application/json", "identityx")).toBe(false);
  });

  it("skips compressed or binary bodies", () => {
    expect(shouldReadUsage("application/json", "gzip")).toBe(false);
    expect(shouldReadUsage("audio/mpeg", null)).toBe(false);
  });
});

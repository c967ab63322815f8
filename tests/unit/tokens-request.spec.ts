/// <reference path="./as-pect.d.ts" />
// Unit tests of the request-body model/stream reader, the stream_options injection and the content-type check.
import { RequestInfo, readRequestInfoAt, injectStreamUsageAt } from "../../shared/tokens/request-body";
import { shouldReadUsage } from "../../shared/tokens/content-type";

function readRequestInfo(body: ArrayBuffer): RequestInfo {
  return readRequestInfoAt(changetype<usize>(body), body.byteLength);
}

function injected(text: string): string {
  const body = String.UTF8.encode(text);
  const out = injectStreamUsageAt(changetype<usize>(body), body.byteLength, readRequestInfo(body));
  return out == null ? "unchanged" : String.UTF8.decode(out);
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

/// <reference path="./as-pect.d.ts" />
// Unit tests of the SSE filter that removes the usage-only event caused by include_usage injection (A1, G5).
import { SseUsageFilter, ChunkSink, MAX_HELD_EVENT } from "../../shared/usage/sse-usage-filter";

const HEAD = '"id":"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT","object":"chat.completion.chunk","created":1741569952,"model":"gpt-4o-2024-08-06","service_tier":"default","system_fingerprint":"fp_f9f4fb6dbf"';
const USAGE = '"usage":{"prompt_tokens":19,"completion_tokens":10,"total_tokens":29,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}';

function content(text: string): string {
  return "data: {" + HEAD + ',"choices":[{"index":0,"delta":{"content":"' + text + '"},"logprobs":null,"finish_reason":null}],"usage":null,"obfuscation":"k3"}\n\n';
}

/** The events a client gets, then the usage-only event the injection adds, then [DONE]. */
const CLIENT_PART = "data: {" + HEAD + ',"choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}],"usage":null}\n\n' +
  content("Hello") + ": keep-alive\n\n" + content(" wörld, 你好 \\\"quoted\\\" {[") +
  "data: {" + HEAD + ',"choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],"usage":null}\n\n';
const USAGE_EVENT = "data: {" + HEAD + ',"choices":[],' + USAGE + ',"obfuscation":"Yt"}\n\n';
const DONE = "data: [DONE]\n\n";

function lineEnds(text: string, ending: string): string {
  return ending == "\n" ? text : text.replaceAll("\n", ending);
}

/** Runs a fresh filter over text cut at `cuts` (ascending offsets); returns what the client gets. */
function filtered(text: string, cuts: i32[]): string {
  return filteredBy(new SseUsageFilter(), text, cuts);
}

/** What the client receives: the pieces of changed chunks, appended after what went out before. */
class Received extends ChunkSink {
  bytes: ArrayBuffer;
  length: i32 = 0;
  /** Length before the current chunk's pieces, for replace. */
  chunkStart: i32 = 0;
  pieces: i32 = 0;
  constructor(capacity: i32) {
    super();
    this.bytes = new ArrayBuffer(capacity);
  }
  replace(ptr: usize, length: usize): void {
    this.length = this.chunkStart;
    this.append(ptr, length);
  }
  append(ptr: usize, length: usize): void {
    memory.copy(changetype<usize>(this.bytes) + <usize>this.length, ptr, length);
    this.length += <i32>length;
    this.pieces++;
  }
  /** One chunk through the filter, as the host would pass it on. */
  chunk(filter: SseUsageFilter, ptr: usize, size: i32, last: bool): bool {
    this.chunkStart = this.length;
    const changed = filter.push(ptr, <usize>size, last, this);
    if (!changed) this.append(ptr, <usize>size);
    return changed;
  }
  get text(): string {
    return String.UTF8.decodeUnsafe(changetype<usize>(this.bytes), <usize>this.length);
  }
}

function filteredBy(filter: SseUsageFilter, text: string, cuts: i32[]): string {
  const body = String.UTF8.encode(text);
  const base = changetype<usize>(body);
  const total = body.byteLength;
  const received = new Received(total);
  let start = 0;
  for (let c = 0; c <= cuts.length; c++) {
    const end = c < cuts.length ? unchecked(cuts[c]) : total;
    received.chunk(filter, base + <usize>start, end - start, end == total);
    start = end;
  }
  return received.text;
}

function byteLength(text: string): i32 {
  return String.UTF8.byteLength(text);
}

describe("SSE usage filter: the usage-only event goes, everything else passes", () => {
  it("removes it at every split into two chunks, with LF, CRLF and CR line ends", () => {
    const endings = ["\n", "\r\n", "\r"];
    for (let e = 0; e < endings.length; e++) {
      const stream = lineEnds(CLIENT_PART + USAGE_EVENT + DONE, endings[e]);
      const expected = lineEnds(CLIENT_PART + DONE, endings[e]);
      expect(filtered(stream, [])).toBe(expected);
      const n = byteLength(stream);
      for (let cut = 0; cut <= n; cut++) {
        const got = filtered(stream, [cut]);
        if (got != expected) expect("ending " + e.toString() + " cut at " + cut.toString() + ": " + got).toBe(expected);
      }
    }
  });

  it("removes it when fed one byte per chunk, with LF, CRLF and CR line ends", () => {
    const endings = ["\n", "\r\n", "\r"];
    for (let e = 0; e < endings.length; e++) {
      const stream = lineEnds(CLIENT_PART + USAGE_EVENT + DONE, endings[e]);
      const cuts = new Array<i32>();
      for (let i = 1; i < byteLength(stream); i++) cuts.push(i);
      expect(filtered(stream, cuts)).toBe(lineEnds(CLIENT_PART + DONE, endings[e]));
    }
  });

  it("removes it for three-way splits with one cut inside the usage event or its neighbours", () => {
    const stream = lineEnds(CLIENT_PART + USAGE_EVENT + DONE, "\r\n");
    const expected = lineEnds(CLIENT_PART + DONE, "\r\n");
    const from = byteLength(lineEnds(CLIENT_PART, "\r\n")) - 20;
    const n = byteLength(stream);
    for (let a = from; a < n; a++) {
      for (let b = a; b <= n; b += 11) {
        const got = filtered(stream, [a, b]);
        if (got != expected) expect("cuts " + a.toString() + "," + b.toString() + ": " + got).toBe(expected);
      }
    }
  });

  it("leaves a stream without a usage-only event unchanged, and touches no chunk that holds whole events", () => {
    const stream = CLIENT_PART + DONE;
    expect(filtered(stream, [])).toBe(stream);
    const filter = new SseUsageFilter();
    const events = [content("a"), ": ping\n\n", content("b"), DONE];
    const received = new Received(byteLength(events.join("")));
    for (let i = 0; i < events.length; i++) {
      const body = String.UTF8.encode(events[i]);
      expect(received.chunk(filter, changetype<usize>(body), body.byteLength, i == events.length - 1)).toBe(false);
    }
  });

  it("removes the usage-only event in any member order, split over several data lines, or cut off by the end of the stream", () => {
    const reordered = 'data: {"usage":{"prompt_tokens":1,"completion_tokens":2},"choices":[ ],"id":"x"}\n\n';
    expect(filtered(content("a") + reordered + DONE, [])).toBe(content("a") + DONE);
    const multiline = 'data: {"choices":[],\ndata: "usage":{"prompt_tokens":1}}\n\n';
    expect(filtered(content("a") + multiline + DONE, [])).toBe(content("a") + DONE);
    const noSpace = 'data:{"choices":[],"usage":{"prompt_tokens":1}}\n\n';
    expect(filtered(noSpace + DONE, [])).toBe(DONE);
    const unterminated = 'data: {"choices":[],"usage":{"prompt_tokens":1}}\n';
    expect(filtered(content("a") + unterminated, [])).toBe(content("a"));
    expect(filtered(content("a") + 'data: {"choices":[],"usage":{"prompt_tokens":1}}', [40])).toBe(content("a"));
  });

  it("passes usage beside non-empty choices (DashScope), usage null, [DONE], comments, other fields and Azure's filter chunk", () => {
    const kept = [
      "data: {" + HEAD + ',"choices":[{"index":0,"delta":{},"finish_reason":"stop"}],' + USAGE + "}\n\n",
      'data: {"choices":[],"usage":null}\n\n',
      DONE,
      ': {"choices":[],"usage":{}}\n\n',
      'event: usage\ndata: {"choices":[],"usage":{"prompt_tokens":1}}\n\n',
      'data: {"choices":[],"usage":{"prompt_tokens":1}}\nid: 7\n\n',
      'data: {"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":[{"prompt_index":0}]}\n\n',
      'data: {"choices":[],"usage":{"prompt_tokens":1}}{}\n\n',
      'data: {"ch\\u006fices":[],"usage":{"prompt_tokens":1}}\n\n',
      'data: {"choices":[],"usage":{"prompt_tokens":1},"x":"line\ndata: broken"}\n\n',
      'data\n\n',
      "retry: 10\n\n",
    ];
    for (let i = 0; i < kept.length; i++) {
      const stream = content("a") + kept[i] + DONE;
      expect(filtered(stream, [])).toBe(stream);
      expect(filtered(stream, [byteLength(content("a")) + 9])).toBe(stream);
    }
  });

  it("releases an event past MAX_HELD_EVENT at once, even a usage-only one, and holds no more than that", () => {
    const long = 'data: {"id":"' + "x".repeat(MAX_HELD_EVENT) + '","choices":[],"usage":{"prompt_tokens":1}}\n\n';
    const stream = long + DONE;
    expect(filtered(stream, [])).toBe(stream);
    const cuts = new Array<i32>();
    for (let i = 100; i < byteLength(stream); i += 100) cuts.push(i);
    expect(filtered(stream, cuts)).toBe(stream);
    // Fed 100 bytes at a time, what goes out trails what came in by at most MAX_HELD_EVENT.
    const filter = new SseUsageFilter();
    const body = String.UTF8.encode(long);
    const received = new Received(body.byteLength);
    for (let at = 0; at + 100 <= body.byteLength; at += 100) {
      received.chunk(filter, changetype<usize>(body) + <usize>at, 100, false);
      expect(at + 100 - received.length).toBeLessThanOrEqual(MAX_HELD_EVENT);
    }
  });

  it("keeps a usage-only event of exactly MAX_HELD_EVENT bytes removable, whatever the chunking", () => {
    const frame = 'data: {"id":"","choices":[],"usage":{"prompt_tokens":1}}\n\n';
    const exact = frame.replace('"id":""', '"id":"' + "y".repeat(MAX_HELD_EVENT - byteLength(frame)) + '"');
    expect(byteLength(exact)).toBe(MAX_HELD_EVENT);
    expect(filtered(exact + DONE, [])).toBe(DONE);
    expect(filtered(exact + DONE, [1000, 4095, 4096])).toBe(DONE);
    const over = exact.replace('"id":"', '"id":"y');
    expect(filtered(over + DONE, [1000, 4095, 4096])).toBe(over + DONE);
  });

  it("starts clean after reset, whatever the last stream left it in", () => {
    const filter = new SseUsageFilter();
    const stream = CLIENT_PART + USAGE_EVENT + DONE;
    const n = byteLength(stream);
    for (let cut = 0; cut < n; cut += 37) {
      const body = String.UTF8.encode(stream);
      new Received(cut).chunk(filter, changetype<usize>(body), cut, false);
      filter.reset();
      expect(filteredBy(filter, stream, [cut / 2])).toBe(CLIENT_PART + DONE);
      filter.reset();
    }
  });
});

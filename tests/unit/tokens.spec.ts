/// <reference path="./as-pect.d.ts" />
// Unit tests of the incremental token-usage reader over the embedded fixtures, splits, random input and huge bodies.
import { UsageReader, readUsage } from "../../shared/tokens/response-reader";
import { TokenUsage, USAGE_CAP } from "../../shared/tokens/usage";
import {
  FIXTURE_NAMES, FIXTURE_BODIES, FIXTURE_FOUND, FIXTURE_MODELS, FIXTURE_INPUT, FIXTURE_OUTPUT, FIXTURE_TOTAL,
} from "./fixtures.generated";

function describeUsage(u: TokenUsage): string {
  return (u.found ? "found" : "none") + " model=" + u.model + " in=" + u.inputTokens.toString() +
    " out=" + u.outputTokens.toString() + " total=" + u.totalTokens.toString();
}

function expectedOf(i: i32): string {
  const u = new TokenUsage();
  u.found = FIXTURE_FOUND[i];
  u.model = FIXTURE_MODELS[i];
  u.inputTokens = FIXTURE_INPUT[i];
  u.outputTokens = FIXTURE_OUTPUT[i];
  u.totalTokens = FIXTURE_TOTAL[i];
  return FIXTURE_NAMES[i] + " " + describeUsage(u);
}

function readSplit(body: ArrayBuffer, cuts: i32[]): string {
  const reader = new UsageReader();
  const base = changetype<usize>(body);
  let last = 0;
  for (let c = 0; c < cuts.length; c++) {
    reader.pushBytes(base + <usize>last, <usize>(cuts[c] - last));
    last = cuts[c];
  }
  reader.pushBytes(base + <usize>last, <usize>(body.byteLength - last));
  return describeUsage(reader.finish());
}

describe("token usage fixtures", () => {
  it("reads the expected model and counts from every fixture body", () => {
    expect(FIXTURE_NAMES.length).toBeGreaterThan(20);
    for (let i = 0; i < FIXTURE_NAMES.length; i++) {
      const body = String.UTF8.encode(FIXTURE_BODIES[i]);
      expect(FIXTURE_NAMES[i] + " " + describeUsage(readUsage(body, 0))).toBe(expectedOf(i));
    }
  });

  it("gives the same answer when fed one byte per chunk", () => {
    for (let i = 0; i < FIXTURE_NAMES.length; i++) {
      const body = String.UTF8.encode(FIXTURE_BODIES[i]);
      expect(FIXTURE_NAMES[i] + " " + describeUsage(readUsage(body, 1))).toBe(expectedOf(i));
    }
  });

  it("gives the same answer for every split point into two chunks", () => {
    for (let i = 0; i < FIXTURE_NAMES.length; i++) {
      const body = String.UTF8.encode(FIXTURE_BODIES[i]);
      const whole = readSplit(body, []);
      for (let cut = 1; cut < body.byteLength; cut++) {
        const got = readSplit(body, [cut]);
        if (got != whole) expect(FIXTURE_NAMES[i] + " cut at " + cut.toString() + ": " + got).toBe(whole);
      }
    }
  });

  it("gives the same answer for a sample of three-way splits", () => {
    for (let i = 0; i < FIXTURE_NAMES.length; i++) {
      const body = String.UTF8.encode(FIXTURE_BODIES[i]);
      const whole = readSplit(body, []);
      const n = body.byteLength;
      for (let a = 1; a < n; a += 7) {
        for (let b = a; b < n; b += 13) {
          const got = readSplit(body, [a, b]);
          if (got != whole) expect(FIXTURE_NAMES[i] + " cuts " + a.toString() + "," + b.toString() + ": " + got).toBe(whole);
        }
      }
    }
  });
});

describe("token usage reader reuse", () => {
  it("reads every fixture like a fresh reader after reset, whatever the reader was cut off in", () => {
    const reader = new UsageReader();
    for (let i = 0; i < FIXTURE_NAMES.length; i++) {
      for (let other = 0; other < FIXTURE_NAMES.length; other += 3) {
        const before = String.UTF8.encode(FIXTURE_BODIES[other]);
        // Leave the reader mid-document, mid-string or mid-number of another body.
        reader.pushBytes(changetype<usize>(before), <usize>((before.byteLength * (i + 1)) / (FIXTURE_NAMES.length + 1)));
        reader.reset();
        const body = String.UTF8.encode(FIXTURE_BODIES[i]);
        reader.pushBytes(changetype<usize>(body), <usize>body.byteLength);
        expect(FIXTURE_NAMES[i] + " " + describeUsage(reader.finish())).toBe(expectedOf(i));
        reader.reset();
      }
    }
  });
});

describe("token usage reader details", () => {
  it("reads a count split inside a number across chunks", () => {
    const reader = new UsageReader();
    reader.push(String.UTF8.encode('{"usage":{"prompt_tokens":12'));
    reader.push(String.UTF8.encode('34,"completion_tokens":5}}'));
    expect(describeUsage(reader.finish())).toBe("found model= in=1234 out=5 total=1239");
  });

  it("ignores usage keys nested below the paths Higress reads", () => {
    const body = String.UTF8.encode('{"choices":[{"usage":{"prompt_tokens":50}}],"data":{"usage":{"prompt_tokens":9,"completion_tokens":9}}}');
    expect(readUsage(body, 0).found).toBe(false);
  });

  it("keeps a model name cut to 128 bytes", () => {
    const long = "m".repeat(300);
    const body = String.UTF8.encode('{"model":"' + long + '","usage":{"prompt_tokens":1,"completion_tokens":1}}');
    expect(readUsage(body, 5).model).toBe("m".repeat(128));
  });

  it("charges input plus output", () => {
    const body = String.UTF8.encode('{"usage":{"input_tokens":10,"output_tokens":3,"cache_read_input_tokens":100}}');
    const usage = readUsage(body, 0);
    expect(usage.charge()).toBe(13);
    expect(usage.totalTokens).toBe(113);
  });

  it("returns no usage for an empty body", () => {
    expect(readUsage(new ArrayBuffer(0), 0).found).toBe(false);
  });

  it("finds a string's end at any offset in an eight-byte word, past escaped quotes and backslashes, at every split", () => {
    // Long strings are scanned a word at a time: the quote or backslash that matters may sit at
    // any of the eight positions, in a skipped container or in an untracked value.
    for (let pad = 0; pad < 17; pad++) {
      const filler = "x".repeat(pad);
      const tricky = filler + '\\"' + filler + "\\\\" + filler + '\\"}]{[' + filler;
      const text = '{"choices":[{"content":"' + tricky + '"}],"id":"' + tricky + '","usage":{"prompt_tokens":' +
        (pad + 1).toString() + ',"completion_tokens":2}}';
      const body = String.UTF8.encode(text);
      const expected = "found model= in=" + (pad + 1).toString() + " out=2 total=" + (pad + 3).toString();
      expect(describeUsage(readUsage(body, 0))).toBe(expected);
      for (let cut = 1; cut < body.byteLength; cut++) expect(readSplit(body, [cut, body.byteLength])).toBe(expected);
    }
  });
});

let seed: u32 = 12345;
function nextRandom(): u32 {
  seed = seed * 1103515245 + 12345;
  return seed >> 8;
}

describe("token usage reader robustness", () => {
  it("never traps on random bytes", () => {
    const alphabet = String.UTF8.encode('{}[]":,\\ \n\r0123456789-.eusagdt_mol');
    const alphabetPtr = changetype<usize>(alphabet);
    const body = new ArrayBuffer(512);
    const ptr = changetype<usize>(body);
    let foundCount = 0;
    for (let round = 0; round < 400; round++) {
      const mixed = round % 2 == 0;
      for (let i = 0; i < 512; i++) {
        const r = nextRandom();
        const byte = mixed ? load<u8>(alphabetPtr + <usize>(r % <u32>alphabet.byteLength)) : <u8>r;
        store<u8>(ptr + <usize>i, byte);
      }
      const usage = readUsage(body, <i32>(nextRandom() % 17));
      if (usage.found) foundCount++;
      expect(usage.inputTokens).toBeGreaterThanOrEqual(0);
    }
    expect(foundCount).toBeLessThan(400);
  });

  it("keeps memory flat while reading 10 MB of streamed response", () => {
    const event = String.UTF8.encode('data: {"id":"c","model":"gpt-4o","choices":[{"delta":{"content":"' + "x".repeat(900) + '"}}],"usage":null}\n\n');
    const reader = new UsageReader();
    reader.push(event);
    __collect();
    const before = memory.size();
    for (let i = 0; i < 10 * 1024; i++) reader.push(event);
    reader.push(String.UTF8.encode('data: {"choices":[],"usage":{"prompt_tokens":7,"completion_tokens":8,"total_tokens":15}}\n\n'));
    const usage = reader.finish();
    expect(memory.size()).toBe(before);
    expect(describeUsage(usage)).toBe("found model=gpt-4o in=7 out=8 total=15");
  });

  it("keeps memory flat while reading a 10 MB JSON body with one huge string", () => {
    const chunk = String.UTF8.encode("y".repeat(65536));
    const reader = new UsageReader();
    reader.push(String.UTF8.encode('{"model":"qwen-plus","choices":[{"message":{"content":"'));
    __collect();
    const before = memory.size();
    for (let i = 0; i < 160; i++) reader.push(chunk);
    reader.push(String.UTF8.encode('"}}],"usage":{"input_tokens":22,"output_tokens":8}}'));
    const usage = reader.finish();
    expect(memory.size()).toBe(before);
    expect(describeUsage(usage)).toBe("found model=qwen-plus in=22 out=8 total=30");
  });
});

describe("token usage number forms", () => {
  it("truncates fractions and applies exponents to counts", () => {
    expect(readUsage(String.UTF8.encode('{"usage":{"prompt_tokens":2.5e2,"completion_tokens":1234e-2}}'), 3).inputTokens).toBe(250);
    expect(readUsage(String.UTF8.encode('{"usage":{"prompt_tokens":2.5e2,"completion_tokens":1234e-2}}'), 3).outputTokens).toBe(12);
  });

  it("reads a negative count as zero", () => {
    const usage = readUsage(String.UTF8.encode('{"usage":{"prompt_tokens":-5,"completion_tokens":3}}'), 0);
    expect(usage.inputTokens).toBe(0);
    expect(usage.outputTokens).toBe(3);
  });
});

/** The prompt count read from `{"usage":{"prompt_tokens":<text>,"completion_tokens":1}}`, whole and one byte at a time (the same). */
function promptOf(text: string): i64 {
  const body = String.UTF8.encode('{"usage":{"prompt_tokens":' + text + ',"completion_tokens":1}}');
  const whole = readUsage(body, 0).inputTokens;
  expect(readUsage(body, 1).inputTokens).toBe(whole, text + " read byte by byte");
  return whole;
}

describe("token usage saturation at USAGE_CAP (2^53 - 1, exact in a Lua number)", () => {
  it("is 2^53 - 1", () => {
    expect(USAGE_CAP).toBe(<i64>9007199254740991);
    expect(<f64>USAGE_CAP).toBe(9007199254740991.0);
  });

  it("reads integers up to the cap exactly", () => {
    expect(promptOf("9007199254740991")).toBe(USAGE_CAP);
    expect(promptOf("9007199254740990")).toBe(<i64>9007199254740990);
    expect(promptOf("4503599627370497")).toBe(<i64>4503599627370497);
    expect(promptOf("0")).toBe(0);
  });

  it("saturates integers past the cap, i64's limit and beyond, never wrapping", () => {
    expect(promptOf("9007199254740992")).toBe(USAGE_CAP);
    expect(promptOf("9007199254740993")).toBe(USAGE_CAP);
    expect(promptOf("9223372036854775807")).toBe(USAGE_CAP);
    expect(promptOf("9223372036854775808")).toBe(USAGE_CAP);
    expect(promptOf("18446744073709551617")).toBe(USAGE_CAP);
    expect(promptOf("9".repeat(5000))).toBe(USAGE_CAP);
  });

  it("saturates exponents: 1e30, 1E400, 1e+16, a fraction moved past the cap", () => {
    expect(promptOf("1e30")).toBe(USAGE_CAP);
    expect(promptOf("1E400")).toBe(USAGE_CAP);
    expect(promptOf("1e+16")).toBe(USAGE_CAP);
    expect(promptOf("1e15")).toBe(<i64>1000000000000000);
    expect(promptOf("9.007199254740991e15")).toBe(USAGE_CAP);
    expect(promptOf("9.007199254740992e15")).toBe(USAGE_CAP);
    expect(promptOf("1e99999999999")).toBe(USAGE_CAP);
  });

  it("applies a negative exponent to every digit, also those past the cap", () => {
    expect(promptOf("1234567890123456789e-10")).toBe(123456789);
    expect(promptOf("1" + "0".repeat(400) + "e-398")).toBe(100);
    expect(promptOf("1e-400")).toBe(0);
    expect(promptOf("0e999999")).toBe(0);
    expect(promptOf("0.000001e7")).toBe(10);
  });

  it("reads every negative form as zero: -5, -1e30, -0, -9223372036854775808", () => {
    expect(promptOf("-5")).toBe(0);
    expect(promptOf("-1e30")).toBe(0);
    expect(promptOf("-0")).toBe(0);
    expect(promptOf("-9223372036854775808")).toBe(0);
  });

  it("saturates a count sent as a string", () => {
    expect(promptOf('"9223372036854775807"')).toBe(USAGE_CAP);
    expect(promptOf('"1e30"')).toBe(USAGE_CAP);
  });

  it("saturates the total it adds up itself, and the charge, input + output", () => {
    const usage = readUsage(String.UTF8.encode('{"usage":{"input_tokens":9223372036854775807,"output_tokens":9e18,"cache_read_input_tokens":1e30}}'), 0);
    expect(usage.found).toBe(true);
    expect(usage.inputTokens).toBe(USAGE_CAP);
    expect(usage.outputTokens).toBe(USAGE_CAP);
    expect(usage.totalTokens).toBe(USAGE_CAP);
    expect(usage.charge()).toBe(USAGE_CAP);
    const reported = readUsage(String.UTF8.encode('{"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":1e400}}'), 0);
    expect(reported.totalTokens).toBe(USAGE_CAP);
    expect(reported.charge()).toBe(3);
  });

  it("keeps a usage whose counts are all negative as no usage at all", () => {
    const usage = readUsage(String.UTF8.encode('{"usage":{"prompt_tokens":-5,"completion_tokens":-7}}'), 0);
    expect(usage.found).toBe(false);
    expect(usage.charge()).toBe(0);
  });

  it("charges within [0, USAGE_CAP] whatever the counts hold", () => {
    const usage = new TokenUsage();
    usage.inputTokens = i64.MAX_VALUE;
    usage.outputTokens = i64.MAX_VALUE;
    expect(usage.charge()).toBe(USAGE_CAP);
    usage.inputTokens = USAGE_CAP;
    usage.outputTokens = 1;
    expect(usage.charge()).toBe(USAGE_CAP);
    usage.inputTokens = -5;
    usage.outputTokens = 12;
    expect(usage.charge()).toBe(12);
    usage.inputTokens = i64.MIN_VALUE;
    usage.outputTokens = i64.MIN_VALUE;
    expect(usage.charge()).toBe(0);
  });
});

/** The chat id a reader (asked for it or not) finds in `body` fed `chunk` bytes at a time (0: whole). */
function chatIdOf(body: string, asked: bool, chunk: i32 = 0): string {
  const reader = new UsageReader();
  reader.readsId = asked;
  const bytes = String.UTF8.encode(body);
  const step = chunk > 0 ? chunk : bytes.byteLength;
  for (let at = 0; at < bytes.byteLength; at += step) reader.pushBytes(changetype<usize>(bytes) + <usize>at, <usize>min(step, bytes.byteLength - at));
  return reader.finish().chatId;
}

describe("token usage reader chat id (ai-statistics)", () => {
  it("reads id, response.id, responseId or message.id, in Higress's order, only when asked", () => {
    const chat = '{"id":"chatcmpl-1","model":"m","usage":{"prompt_tokens":1,"completion_tokens":2}}';
    expect(chatIdOf(chat, true)).toBe("chatcmpl-1");
    expect(chatIdOf(chat, false)).toBe("");
    expect(chatIdOf('{"response":{"id":"resp_1"},"id":"x"}', true)).toBe("x");
    expect(chatIdOf('{"responseId":"g-1","response":{"id":"resp_1"}}', true)).toBe("resp_1");
    expect(chatIdOf('{"message":{"id":"msg_1"},"responseId":"g-1"}', true)).toBe("g-1");
    expect(chatIdOf('event: message_start\ndata: {"type":"message_start","message":{"id":"msg_1","usage":{"input_tokens":3}}}\n\ndata: {"type":"message_delta","usage":{"output_tokens":4}}\n\n', true, 7)).toBe("msg_1");
  });

  it("takes a string only, the last document's that names one, and keeps the usage as before", () => {
    expect(chatIdOf('{"id":42,"usage":{"prompt_tokens":1}}', true)).toBe("");
    expect(chatIdOf('data: {"id":"a"}\n\ndata: {"id":"b","usage":{"prompt_tokens":1,"completion_tokens":1}}\n\ndata: [DONE]\n\n', true, 3)).toBe("b");
    const reader = new UsageReader();
    reader.readsId = true;
    reader.push(String.UTF8.encode('{"id":"c","model":"m","usage":{"prompt_tokens":5,"completion_tokens":6}}'));
    expect(describeUsage(reader.finish())).toBe("found model=m in=5 out=6 total=11");
  });
});

import { RandomText } from "./support/random";
import { encodeCommand, decodeReply, RespKind, RespReader, parseInt64, parseRedisConfig, CommandBuilder } from "../../shared/redis/index";
import { parseJson, ConfigReader } from "../../shared/json/index";

function bytes(text: string): ArrayBuffer {
  return String.UTF8.encode(text);
}

function configOf(json: string, reader: ConfigReader): string {
  const root = reader.root(parseJson(json).value!);
  const config = parseRedisConfig(root);
  return config === null ? "null" : config.initName + " " + config.username + " " + config.timeoutMs.toString();
}

describe("RESP encoder", () => {
  it("writes an array of bulk strings with byte lengths", () => {
    expect(String.UTF8.decode(encodeCommand(["get", "chat_quota:zürich"]))).toBe("*2\r\n$3\r\nget\r\n$18\r\nchat_quota:zürich\r\n");
    expect(String.UTF8.decode(encodeCommand(["x", ""]))).toBe("*2\r\n$1\r\nx\r\n$0\r\n\r\n");
    // A character past ASCII anywhere (in a group of four, in the tail, first, last) gives UTF-8 and its byte length.
    const keys = ["é", "aé", "abcé", "abcdé", "abcdefgé", "éabcdefgh", "abcdefghijk", "模型-名", "k😀"];
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      const size = String.UTF8.byteLength(key);
      expect(String.UTF8.decode(encodeCommand(["get", key]))).toBe("*2\r\n$3\r\nget\r\n$" + size.toString() + "\r\n" + key + "\r\n");
    }
  });

  it("writes integers to the int64 bounds, joined arguments and pre-encoded bytes", () => {
    const command = new CommandBuilder(5).int(0).int(-42).int(i64.MIN_VALUE).joined(bytes("key:"), "zü").bytes(bytes("ab"));
    expect(String.UTF8.decode(command.build())).toBe("*5\r\n$1\r\n0\r\n$3\r\n-42\r\n$20\r\n-9223372036854775808\r\n$7\r\nkey:zü\r\n$2\r\nab\r\n");
    expect(new CommandBuilder(1).int(i64.MAX_VALUE).size).toBe(4 + 5 + 19 + 2);
  });

  it("grows its shared buffer for long commands and starts each command afresh", () => {
    const long = "x".repeat(5000);
    const big = String.UTF8.decode(new CommandBuilder(2).arg("set").arg(long).build());
    expect(big).toBe("*2\r\n$3\r\nset\r\n$5000\r\n" + long + "\r\n");
    expect(String.UTF8.decode(new CommandBuilder(1).arg("ping").build())).toBe("*1\r\n$4\r\nping\r\n");
  });

  it("appends arguments encoded beforehand as they are, in a command started later", () => {
    const args = CommandBuilder.fragment().int(1000000000000).int(60).build();
    expect(String.UTF8.decode(args)).toBe("$13\r\n1000000000000\r\n$2\r\n60\r\n");
    const command = CommandBuilder.start(4).arg("eval").joined(bytes("k:"), "v").encoded(args);
    expect(String.UTF8.decode(command.build())).toBe("*4\r\n$4\r\neval\r\n$3\r\nk:v\r\n$13\r\n1000000000000\r\n$2\r\n60\r\n");
  });
});

describe("RESP decoder", () => {
  it("decodes every RESP2 type", () => {
    expect(decodeReply(bytes("+OK\r\n")).text).toBe("OK");
    const err = decodeReply(bytes("-NOAUTH Authentication required.\r\n"));
    expect(err.kind).toBe(RespKind.Error);
    expect(err.isError).toBe(true);
    expect(decodeReply(bytes(":-12\r\n")).integer).toBe(-12);
    expect(decodeReply(bytes("$5\r\nhe\r\nl\r\n")).text).toBe("he\r\nl");
    expect(decodeReply(bytes("$-1\r\n")).isNull).toBe(true);
    expect(decodeReply(bytes("*-1\r\n")).isNull).toBe(true);
    const array = decodeReply(bytes("*3\r\n:100\r\n$2\r\n42\r\n*1\r\n+x\r\n"));
    expect(array.items.length).toBe(3);
    expect(array.items[1].toInteger()).toBe(42);
    expect(array.items[2].items[0].text).toBe("x");
  });

  it("follows Higress's integer-of: numeric strings count, anything else is 0", () => {
    expect(decodeReply(bytes("$3\r\n-17\r\n")).toInteger()).toBe(-17);
    expect(decodeReply(bytes("$3\r\nabc\r\n")).toInteger()).toBe(0);
    expect(decodeReply(bytes("$3\r\nabc\r\n")).isInteger()).toBe(false);
    expect(decodeReply(bytes("$-1\r\n")).toInteger()).toBe(0);
  });

  it("gives Invalid for every truncated prefix and for RESP3 types, never a trap", () => {
    const whole = "*2\r\n$3\r\nabc\r\n:7\r\n";
    for (let cut = 0; cut < whole.length; cut++) {
      expect(decodeReply(bytes(whole.slice(0, cut))).kind).toBe(RespKind.Invalid);
    }
    expect(decodeReply(bytes(whole)).kind).toBe(RespKind.Array);
    expect(decodeReply(bytes("_\r\n")).kind).toBe(RespKind.Invalid);
    expect(decodeReply(bytes("#t\r\n")).kind).toBe(RespKind.Invalid);
    expect(decodeReply(bytes("+OK\r\n+OK\r\n")).kind).toBe(RespKind.Invalid);
    expect(decodeReply(bytes("$9999999999\r\nx\r\n")).kind).toBe(RespKind.Invalid);
  });

  it("never traps on random bytes", () => {
    const random = new RandomText(123456789);
    for (let round = 0; round < 5000; round++) {
      const s = random.string("*$:+-_#\r\n0123456789-1ab", 20);
      decodeReply(bytes(s));
    }
    expect(true).toBe(true);
  });
});

function readerOf(buffer: ArrayBuffer): RespReader {
  return new RespReader(changetype<usize>(buffer), buffer.byteLength);
}

/** Reads the rate limiter's check shape, {a, b, c} per element; "" when the reply is not exactly that. */
function readWindows(text: string): string {
  const buffer = bytes(text);
  const reader = readerOf(buffer);
  const n = reader.array();
  let out = "";
  for (let i: i64 = 0; i < n; i++) {
    if (reader.array() != 3) return "";
    out += reader.int().toString() + "," + reader.int().toString() + "," + reader.int().toString() + ";";
  }
  return n >= 0 && reader.complete ? out : "";
}

describe("RESP in-place reader", () => {
  it("reads the shape asked for", () => {
    expect(readWindows("*2\r\n*3\r\n:5\r\n:0\r\n:60\r\n*3\r\n:-1\r\n:9223372036854775807\r\n:7\r\n")).toBe("5,0,60;-1,9223372036854775807,7;");
    expect(readWindows("*0\r\n")).toBe("");
  });

  it("gives up on another type, a bad number, a cut-off reply or bytes left over", () => {
    const good = "*1\r\n*3\r\n:5\r\n:0\r\n:60\r\n";
    expect(readWindows(good)).toBe("5,0,60;");
    for (let cut = 0; cut < good.length; cut++) expect(readWindows(good.slice(0, cut))).toBe("");
    expect(readWindows(good + ":1\r\n")).toBe("");
    expect(readWindows("*1\r\n*3\r\n$1\r\n5\r\n:0\r\n:60\r\n")).toBe("");
    expect(readWindows("*1\r\n*3\r\n:5x\r\n:0\r\n:60\r\n")).toBe("");
    expect(readWindows("-ERR no script\r\n")).toBe("");
    expect(readWindows("*-1\r\n")).toBe("");
  });
});

/** bulkInt over a whole reply: "value", "null", or "" when the reply is not exactly one bulk string. */
function bulkOf(text: string): string {
  const buffer = bytes(text);
  const reader = readerOf(buffer);
  const value = reader.bulkInt();
  if (!reader.complete) return "";
  return reader.wasNull ? "null" : value.toString();
}

describe("RESP in-place bulk integers", () => {
  it("reads a quota as Higress's integer-of: digits, null, and 0 for any other text", () => {
    expect(bulkOf("$13\r\n1000000000000\r\n")).toBe("1000000000000");
    expect(bulkOf("$2\r\n-5\r\n")).toBe("-5");
    expect(bulkOf("$-1\r\n")).toBe("null");
    expect(bulkOf("$3\r\nabc\r\n")).toBe("0");
    expect(bulkOf("$0\r\n\r\n")).toBe("0");
    expect(bulkOf("$20\r\n99999999999999999999\r\n")).toBe("0");
  });

  it("gives up on another type, a wrong length or a cut-off reply", () => {
    const good = "$3\r\n100\r\n";
    for (let cut = 0; cut < good.length; cut++) expect(bulkOf(good.slice(0, cut))).toBe("");
    expect(bulkOf("$4\r\n100\r\n")).toBe("");
    expect(bulkOf("$2\r\n100\r\n")).toBe("");
    expect(bulkOf(":100\r\n")).toBe("");
    expect(bulkOf("-WRONGTYPE no\r\n")).toBe("");
  });
});

describe("parseInt64", () => {
  it("parses Go's way: sign, leading zeros; no spaces, fractions or overflow", () => {
    expect(parseInt64("+5").value).toBe(5);
    expect(parseInt64("-005").value).toBe(-5);
    expect(parseInt64("9223372036854775807").ok).toBe(true);
    expect(parseInt64("-9223372036854775808").value).toBe(i64.MIN_VALUE);
    expect(parseInt64("9223372036854775808").ok).toBe(false);
    expect(parseInt64("1.5").ok).toBe(false);
    expect(parseInt64(" 1").ok).toBe(false);
    expect(parseInt64("").ok).toBe(false);
    expect(parseInt64("-").ok).toBe(false);
  });
});

describe("redis config block", () => {
  it("names the cluster as Higress, with port defaults and ?db only for init", () => {
    expect(configOf('{"redis":{"service_name":"local-redis.static","timeout":2000}}', new ConfigReader("p"))).toBe("outbound|80||local-redis.static  2000");
    expect(configOf('{"redis":{"service_name":"redis.dns","database":3,"username":"u"}}', new ConfigReader("p"))).toBe("outbound|6379||redis.dns?db=3 u 1000");
    expect(configOf('{"redis":{"service_name":"r.dns","service_port":7000,"timeout":0}}', new ConfigReader("p"))).toBe("outbound|7000||r.dns  1000");
  });

  it("rejects a missing block and an empty name in Higress's words, naming the field", () => {
    const a = new ConfigReader("p");
    configOf("{}", a);
    expect(a.error).toBe("p: missing redis in config at redis");
    const b = new ConfigReader("p");
    configOf('{"redis":{"service_name":""}}', b);
    expect(b.error).toBe("p: redis service name must not be empty at redis.service_name");
    const c = new ConfigReader("p");
    configOf('{"redis":{"port":80}}', c);
    expect(c.error).toBe("p: redis service name must not be empty at redis.service_name");
  });

  it("rejects an impossible port and never echoes a password", () => {
    const a = new ConfigReader("p");
    configOf('{"redis":{"service_name":"r.dns","service_port":70000}}', a);
    expect(a.error).toBe("p: redis.service_port must be between 0 and 65535, got 70000");
    const b = new ConfigReader("p");
    configOf('{"redis":{"service_name":"r.dns","password":12345}}', b);
    expect(b.error).toBe("p: redis.password must be a string");
  });
});

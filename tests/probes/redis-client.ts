/**
 * Redis client probe: `x-test-operation` picks a shared/redis command; the decoded reply comes back
 * as the body of a local reply, so the client is tested against a real redis-server.
 */
export * from "../../shared/abi/exports";
import { RootContext, HttpContext, setRootContextFactory, HeaderAction, Status, getRequestHeader, sendLocalResponse, logError } from "../../shared/index";
import { parseJson, ConfigReader } from "../../shared/json/index";
import { RedisClient, RedisReply, RedisScript, RespValue, RespKind, parseRedisConfig } from "../../shared/redis/index";

let client: RedisClient | null = null;
const INCRBY_AND_ECHO = RedisScript.of("return {KEYS[1], ARGV[1], redis.call('incrby', KEYS[1], ARGV[1])}");

class ClientRoot extends RootContext {
  onConfigure(configuration: ArrayBuffer | null): bool {
    const reader = new ConfigReader("redis-client");
    const parsed = parseJson(configuration === null ? "{}" : String.UTF8.decode(configuration));
    if (parsed.value === null) {
      logError("redis-client: " + parsed.error);
      return false;
    }
    const config = parseRedisConfig(reader.root(parsed.value!));
    if (config === null) {
      logError(reader.error);
      return false;
    }
    client = new RedisClient(config);
    client!.init();
    return true;
  }
  newHttpContext(id: u32): HttpContext {
    return new ClientStream(id, this);
  }
}

function describe(value: RespValue): string {
  switch (value.kind) {
    case RespKind.Error:
      return "error:" + value.text;
    case RespKind.Integer:
      return "int:" + value.integer.toString();
    case RespKind.Null:
      return "null";
    case RespKind.Array: {
      let out = "array:";
      for (let i = 0; i < value.items.length; i++) out += (i > 0 ? "," : "") + describe(value.items[i]);
      return out;
    }
    default:
      return "text:" + value.text;
  }
}

class Answer extends RedisReply {
  onReply(reply: RespValue): void {
    sendLocalResponse(200, "redis_client", String.UTF8.encode(describe(reply)), null);
  }
}

class ClientStream extends HttpContext {
  onRequestHeaders(headerCount: u32, endOfStream: bool): HeaderAction {
    const op = getRequestHeader("x-test-operation");
    const key = getRequestHeader("x-test-key");
    const k = key === null ? "k" : key;
    const redis = client!;
    let status = Status.Ok;
    if (op == "get") status = redis.get(k, new Answer());
    else if (op == "set") status = redis.set(k, "5", new Answer());
    else if (op == "incrby") status = redis.incrBy(k, 7, new Answer());
    else if (op == "decrby") status = redis.decrBy(k, 3, new Answer());
    else if (op == "expire") status = redis.expire(k, 60, new Answer());
    else if (op == "eval") status = redis.eval(INCRBY_AND_ECHO, [k], ["2"], new Answer());
    else return HeaderAction.Continue;
    if (status != Status.Ok) {
      sendLocalResponse(503, "redis_client", String.UTF8.encode("dispatch:" + status.toString()), null);
      return HeaderAction.Continue;
    }
    return HeaderAction.StopIteration;
  }
}

setRootContextFactory((id: u32): RootContext => new ClientRoot(id));

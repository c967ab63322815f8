/** ai-token-ratelimit: token-per-window limits in Redis, shared with Higress (README.md in this folder). */
export * from "../../shared/abi/exports";
import { RootContext, HttpContext, setRootContextFactory, HeaderAction, logError, logWarn } from "../../shared/index";
import { RuleSet, selectConfig } from "../../shared/rules/index";
import { RedisClient } from "../../shared/redis/index";
import { RateLimitConfig, parseRateLimitConfig } from "./config";
import { LimitedStream } from "./limiter";

class RateLimitRoot extends RootContext {
  rules: RuleSet<RateLimitConfig> | null = null;
  /** One client per config (global and each rule may name its own Redis). */
  clients: Map<RateLimitConfig, RedisClient> = new Map();

  onConfigure(configuration: ArrayBuffer | null): bool {
    const parsed = parseRateLimitConfig(configuration === null ? "" : String.UTF8.decode(configuration));
    for (let i = 0; i < parsed.reader.warnings.length; i++) logWarn(parsed.reader.warnings[i]);
    const rules = parsed.rules;
    if (rules === null) {
      logError(parsed.reader.error);
      return false;
    }
    this.rules = rules;
    const global = rules.global;
    if (global !== null) this.addClient(global);
    for (let i = 0; i < rules.rules.length; i++) this.addClient(rules.rules[i].config);
    return true;
  }

  private addClient(config: RateLimitConfig): void {
    const client = new RedisClient(config.redis);
    client.init();
    this.clients.set(config, client);
  }

  newHttpContext(id: u32): HttpContext {
    return new RateLimitStream(id, this);
  }
}

class RateLimitStream extends LimitedStream {
  onRequestHeaders(headerCount: u32, endOfStream: bool): HeaderAction {
    const root = <RateLimitRoot>this.root;
    const rules = root.rules;
    if (rules === null) return HeaderAction.Continue;
    const config = selectConfig(rules);
    if (config === null || !root.clients.has(config)) return HeaderAction.Continue;
    return this.begin(config, root.clients.get(config), endOfStream);
  }
}

setRootContextFactory((id: u32): RootContext => new RateLimitRoot(id));

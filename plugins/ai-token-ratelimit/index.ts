/** ai-token-ratelimit: token-per-window limits in Redis, shared with Higress (README.md in this folder). */
export * from "../../shared/abi/exports";
import { RootContext, HttpContext, setRootContextFactory, HeaderAction } from "../../shared/index";
import { RuleSet, selectConfig, acceptConfig } from "../../shared/rules/index";
import { ClientsByConfig, RedisConfig } from "../../shared/redis/index";
import { RateLimitConfig, parseRateLimitConfig } from "./config";
import { LimitedStream } from "./limiter";

class RateLimitRoot extends RootContext {
  rules: RuleSet<RateLimitConfig> | null = null;
  clients: ClientsByConfig<RateLimitConfig> | null = null;

  onConfigure(configuration: ArrayBuffer | null): bool {
    const rules = acceptConfig(parseRateLimitConfig(configuration === null ? "" : String.UTF8.decode(configuration)));
    if (rules === null) return false;
    this.rules = rules;
    this.clients = new ClientsByConfig<RateLimitConfig>(rules.all(), (config: RateLimitConfig): RedisConfig => config.redis);
    return true;
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
    if (config === null) return HeaderAction.Continue;
    const client = root.clients!.get(config);
    if (client === null) return HeaderAction.Continue;
    return this.begin(config, client, endOfStream);
  }
}

setRootContextFactory((id: u32): RootContext => new RateLimitRoot(id));

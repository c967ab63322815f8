/** ai-token-ratelimit: token-per-window limits in Redis, shared with Higress (README.md in this folder). */
export * from "../../shared/abi/exports";
import { RootContext, HttpContext, setRootContextFactory, HeaderAction } from "../../shared/index";
import { ParsedConfig } from "../../shared/rules/index";
import { RedisRuleRoot, RedisConfig } from "../../shared/redis/index";
import { RateLimitConfig, parseRateLimitConfig } from "./config";
import { LimitedStream } from "./limiter";

class RateLimitRoot extends RedisRuleRoot<RateLimitConfig> {
  parse(text: string): ParsedConfig<RateLimitConfig> {
    return parseRateLimitConfig(text);
  }
  redisOf(config: RateLimitConfig): RedisConfig {
    return config.redis;
  }
  newHttpContext(id: u32): HttpContext {
    return new RateLimitStream(id, this);
  }
}

class RateLimitStream extends LimitedStream {
  onRequestHeaders(headerCount: u32, endOfStream: bool): HeaderAction {
    const root = <RateLimitRoot>this.root;
    if (!root.select()) return HeaderAction.Continue;
    return this.begin(root.selected!, root.selectedClient!, endOfStream);
  }
}

setRootContextFactory((id: u32): RootContext => new RateLimitRoot(id));

/** ai-quota: per-consumer token budgets in Redis with Higress's admin API (README.md in this folder). */
export * from "../../shared/abi/exports";
import { RootContext, HttpContext, setRootContextFactory, HeaderAction } from "../../shared/index";
import { ParsedConfig } from "../../shared/rules/index";
import { RedisRuleRoot, RedisConfig } from "../../shared/redis/index";
import { QuotaConfig, parseQuotaConfig } from "./config";
import { QuotaStream } from "./quota";

class QuotaRoot extends RedisRuleRoot<QuotaConfig> {
  parse(text: string): ParsedConfig<QuotaConfig> {
    return parseQuotaConfig(text);
  }
  redisOf(config: QuotaConfig): RedisConfig {
    return config.redis;
  }
  newHttpContext(id: u32): HttpContext {
    return new QuotaHttp(id, this);
  }
}

class QuotaHttp extends QuotaStream {
  onRequestHeaders(headerCount: u32, endOfStream: bool): HeaderAction {
    const root = <QuotaRoot>this.root;
    if (!root.select()) return HeaderAction.Continue;
    return this.begin(root.selected!, root.selectedClient!, endOfStream);
  }
}

setRootContextFactory((id: u32): RootContext => new QuotaRoot(id));

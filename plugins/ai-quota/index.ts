/** ai-quota: per-consumer token budgets in Redis with Higress's admin API (README.md in this folder). */
export * from "../../shared/abi/exports";
import { RootContext, HttpContext, setRootContextFactory, HeaderAction } from "../../shared/index";
import { RuleSet, selectConfig, acceptConfig } from "../../shared/rules/index";
import { ClientsByConfig, RedisConfig } from "../../shared/redis/index";
import { QuotaConfig, parseQuotaConfig } from "./config";
import { QuotaStream } from "./quota";

class QuotaRoot extends RootContext {
  rules: RuleSet<QuotaConfig> | null = null;
  clients: ClientsByConfig<QuotaConfig> | null = null;

  onConfigure(configuration: ArrayBuffer | null): bool {
    const rules = acceptConfig(parseQuotaConfig(configuration === null ? "" : String.UTF8.decode(configuration)));
    if (rules === null) return false;
    this.rules = rules;
    this.clients = new ClientsByConfig<QuotaConfig>(rules.all(), (config: QuotaConfig): RedisConfig => config.redis);
    return true;
  }

  newHttpContext(id: u32): HttpContext {
    return new QuotaHttp(id, this);
  }
}

class QuotaHttp extends QuotaStream {
  onRequestHeaders(headerCount: u32, endOfStream: bool): HeaderAction {
    const root = <QuotaRoot>this.root;
    const rules = root.rules;
    if (rules === null) return HeaderAction.Continue;
    const config = selectConfig(rules);
    if (config === null) return HeaderAction.Continue;
    const client = root.clients!.get(config);
    if (client === null) return HeaderAction.Continue;
    return this.begin(config, client, endOfStream);
  }
}

setRootContextFactory((id: u32): RootContext => new QuotaRoot(id));

/** ai-quota: per-consumer token budgets in Redis with Higress's admin API (README.md in this folder). */
export * from "../../shared/abi/exports";
import { RootContext, HttpContext, setRootContextFactory, HeaderAction, logError, logWarn } from "../../shared/index";
import { RuleSet, selectConfig } from "../../shared/rules/index";
import { RedisClient } from "../../shared/redis/index";
import { QuotaConfig, parseQuotaConfig } from "./config";
import { QuotaStream } from "./quota";

class QuotaRoot extends RootContext {
  rules: RuleSet<QuotaConfig> | null = null;
  clients: Map<QuotaConfig, RedisClient> = new Map();

  onConfigure(configuration: ArrayBuffer | null): bool {
    const parsed = parseQuotaConfig(configuration === null ? "" : String.UTF8.decode(configuration));
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

  private addClient(config: QuotaConfig): void {
    const client = new RedisClient(config.redis);
    client.init();
    this.clients.set(config, client);
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
    if (config === null || !root.clients.has(config)) return HeaderAction.Continue;
    return this.begin(config, root.clients.get(config), endOfStream);
  }
}

setRootContextFactory((id: u32): RootContext => new QuotaRoot(id));

/** ai-statistics: Higress's AI metrics and ai_log attributes, observed and never enforced (README.md in this folder). */
export * from "../../shared/abi/exports";
import { RootContext, HttpContext, setRootContextFactory, HeaderAction } from "../../shared/index";
import { RuleSet, selectConfig, acceptConfig } from "../../shared/rules/index";
import { StatisticsConfig, parseStatisticsConfig } from "./config";
import { StatisticsStream } from "./statistics";

class StatisticsRoot extends RootContext {
  rules: RuleSet<StatisticsConfig> | null = null;

  onConfigure(configuration: ArrayBuffer | null): bool {
    this.rules = acceptConfig(parseStatisticsConfig(configuration === null ? "" : String.UTF8.decode(configuration)));
    return this.rules !== null;
  }

  newHttpContext(id: u32): HttpContext {
    return new StatisticsHttp(id, this);
  }
}

class StatisticsHttp extends StatisticsStream {
  onRequestHeaders(headerCount: u32, endOfStream: bool): HeaderAction {
    const rules = (<StatisticsRoot>this.root).rules;
    if (rules === null) return HeaderAction.Continue;
    const config = selectConfig(rules);
    return config === null ? HeaderAction.Continue : this.begin(config, endOfStream);
  }
}

setRootContextFactory((id: u32): RootContext => new StatisticsRoot(id));

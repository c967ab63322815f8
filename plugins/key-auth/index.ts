/** key-auth: Higress-compatible API-key authentication (README.md in this folder). */
export * from "../../shared/abi/exports";
import {
  RootContext, HttpContext, setRootContextFactory, HeaderAction, Header, sendLocalResponse, setRequestHeader,
  logDebug, logEnabled, LogLevel,
} from "../../shared/index";
import { RuleSet, selectConfig, acceptConfig } from "../../shared/rules/index";
import { KeyAuthConfig, parseKeyAuthConfig } from "./config";
import { authenticate, needsAuthentication, hideCredential } from "./authenticate";
import { WWW_AUTHENTICATE, WWW_AUTHENTICATE_VALUE } from "./errors";
import { CONSUMER_HEADER, recordAuthenticatedConsumer } from "../../shared/identity/consumer";

class KeyAuthRoot extends RootContext {
  rules: RuleSet<KeyAuthConfig> | null = null;

  onConfigure(configuration: ArrayBuffer | null): bool {
    this.rules = acceptConfig(parseKeyAuthConfig(configuration === null ? "" : String.UTF8.decode(configuration)));
    return this.rules !== null;
  }

  newHttpContext(id: u32): HttpContext {
    return new KeyAuthStream(id, this);
  }
}

class KeyAuthStream extends HttpContext {
  onRequestHeaders(headerCount: u32, endOfStream: bool): HeaderAction {
    const rules = (<KeyAuthRoot>this.root).rules;
    if (rules === null) return HeaderAction.Continue;
    const config = selectConfig(rules);
    // Pass-through requests keep their headers untouched, X-Mse-Consumer included (K3).
    if (config === null || !needsAuthentication(config, rules.rules.length > 0)) return HeaderAction.Continue;
    const verdict = authenticate(config);
    const error = verdict.error;
    if (error !== null) {
      const headers = error.status == 401 ? [new Header(WWW_AUTHENTICATE, WWW_AUTHENTICATE_VALUE)] : null;
      sendLocalResponse(error.status, error.details, String.UTF8.encode(error.body), headers);
      return HeaderAction.Continue;
    }
    // Replace, never append: a client-sent X-Mse-Consumer must not survive (K3).
    setRequestHeader(CONSUMER_HEADER, verdict.consumer);
    // The copy no client can forge, for AI plugins with authenticated_consumer_only.
    recordAuthenticatedConsumer(verdict.consumer);
    if (config.hideCredentials) hideCredential(verdict);
    if (logEnabled(LogLevel.Debug)) logDebug("key-auth: authenticated consumer " + verdict.consumer);
    return HeaderAction.Continue;
  }
}

setRootContextFactory((id: u32): RootContext => new KeyAuthRoot(id));

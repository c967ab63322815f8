/**
 * Token-usage probe: runs shared/usage on every stream and adds what it charged to the counters
 * `usage.input_tokens` / `usage.output_tokens` / `usage.responses`, so end-to-end tests can check
 * the reader and the include_usage injection through real HTTP. Config `{"inject": false}` turns
 * the injection off.
 */
export * from "../../shared/abi/exports";
import {
  RootContext, HttpContext, setRootContextFactory, HeaderAction, DataAction, counter, incrementMetric,
} from "../../shared/index";
import { StreamUsage } from "../../shared/usage/stream-usage";
import { UsageOptions } from "../../shared/usage/options";

const options = new UsageOptions();

class UsageRoot extends RootContext {
  onConfigure(configuration: ArrayBuffer | null): bool {
    options.inject = configuration === null || !String.UTF8.decode(configuration).includes('"inject":false');
    return true;
  }
  newHttpContext(id: u32): HttpContext {
    return new UsageStream(id, this);
  }
}

class UsageStream extends HttpContext {
  usage: StreamUsage = new StreamUsage(options);

  onRequestHeaders(headerCount: u32, endOfStream: bool): HeaderAction {
    return this.usage.onRequestHeaders(endOfStream);
  }
  onRequestBody(bodySize: u32, endOfStream: bool): DataAction {
    return this.usage.onRequestBody(bodySize, endOfStream, false);
  }
  onResponseHeaders(headerCount: u32, endOfStream: bool): HeaderAction {
    this.usage.onResponseHeaders();
    return HeaderAction.Continue;
  }
  onResponseBody(bodySize: u32, endOfStream: bool): DataAction {
    this.usage.onResponseBody(bodySize, endOfStream);
    const usage = this.usage.usage;
    if (endOfStream && usage !== null) {
      incrementMetric(counter("usage.responses"), 1);
      if (usage.inputTokens > 0) incrementMetric(counter("usage.input_tokens"), usage.inputTokens);
      if (usage.outputTokens > 0) incrementMetric(counter("usage.output_tokens"), usage.outputTokens);
    }
    return DataAction.Continue;
  }
}

setRootContextFactory((id: u32): RootContext => new UsageRoot(id));

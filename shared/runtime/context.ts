/** Root and HTTP context base classes; plugins extend them and override what they need. */
import { HeaderAction, DataAction, TrailersAction } from "../abi/enums";

/** One per plugin instance (root id); owns configuration and creates the per-request contexts. */
export class RootContext {
  constructor(public readonly id: u32) {}
  onVmStart(vmConfigSize: u32): bool {
    return true;
  }
  /** The plugin configuration bytes (null when empty); only readable during this call. */
  onConfigure(configuration: ArrayBuffer | null): bool {
    return true;
  }
  newHttpContext(id: u32): HttpContext {
    return new HttpContext(id, this);
  }
  onTick(): void {}
  /** Only called when the plugin exports shared/abi/exports-log.ts. */
  onDone(): bool {
    return true;
  }
  onDelete(): void {}
}

/** One per HTTP stream; request headers are readable only until its headers callback continues. */
export class HttpContext {
  /** Set once the host has deleted the stream: late callbacks (Redis replies) must not run. */
  deleted: bool = false;
  constructor(public readonly id: u32, public readonly root: RootContext) {}
  onRequestHeaders(headerCount: u32, endOfStream: bool): HeaderAction {
    return HeaderAction.Continue;
  }
  onRequestBody(bodySize: u32, endOfStream: bool): DataAction {
    return DataAction.Continue;
  }
  onRequestTrailers(trailerCount: u32): TrailersAction {
    return TrailersAction.Continue;
  }
  onResponseHeaders(headerCount: u32, endOfStream: bool): HeaderAction {
    return HeaderAction.Continue;
  }
  onResponseBody(bodySize: u32, endOfStream: bool): DataAction {
    return DataAction.Continue;
  }
  onResponseTrailers(trailerCount: u32): TrailersAction {
    return TrailersAction.Continue;
  }
  /** onLog and onDone are only called when the plugin exports shared/abi/exports-log.ts. */
  onLog(): void {}
  onDone(): void {}
  onDelete(): void {}
}

/**
 * The end-of-stream callbacks before on_delete: on_log (headers readable again, read-only) and
 * on_done (a root answering false defers its deletion until proxy_done). A plugin whose contexts
 * override onLog or onDone adds `export * from "../../shared/abi/exports-log";` to its index.ts;
 * without it Envoy skips both, and onLog and onDone never run.
 */
import * as dispatch from "../runtime/dispatch";
import { enterCallback, leaveCallback } from "./memory";

export function proxy_on_log(contextId: u32): void {
  enterCallback();
  dispatch.onLog(contextId);
  leaveCallback();
}
export function proxy_on_done(contextId: u32): bool {
  enterCallback();
  const result = dispatch.onDone(contextId);
  leaveCallback();
  return result;
}

/** Logging through proxy_log; check logEnabled(level) before building an expensive message. */
import { LogLevel } from "../abi/enums";
import * as host from "../abi/hostcalls";

// Envoy's level can change at run time (its admin /logging endpoint), so it is read again after
// every 256 callbacks, about 25 requests: a host call per callback would cost more than a
// level change arriving a few requests late.
let cachedLevel: i32 = -1;
const CALLBACKS_PER_LEVEL_READ: u32 = 256;
let callbacksSinceRead: u32 = 0;

/** Called by the dispatcher on entry of every callback; now and then forgets the cached level. */
export function noteCallback(): void {
  if (++callbacksSinceRead < CALLBACKS_PER_LEVEL_READ) return;
  callbacksSinceRead = 0;
  cachedLevel = -1;
}

export function logEnabled(level: LogLevel): bool {
  if (cachedLevel < 0) cachedLevel = <i32>host.getLogLevel();
  return <i32>level >= cachedLevel;
}

function write(level: LogLevel, message: string): void {
  if (logEnabled(level)) host.log(level, message);
}

export function logTrace(message: string): void {
  write(LogLevel.Trace, message);
}
export function logDebug(message: string): void {
  write(LogLevel.Debug, message);
}
export function logInfo(message: string): void {
  write(LogLevel.Info, message);
}
export function logWarn(message: string): void {
  write(LogLevel.Warn, message);
}
export function logError(message: string): void {
  write(LogLevel.Error, message);
}
export function logCritical(message: string): void {
  write(LogLevel.Critical, message);
}

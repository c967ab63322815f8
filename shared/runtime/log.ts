/** Logging through proxy_log; check logEnabled(level) before building an expensive message. */
import { LogLevel } from "../abi/enums";
import * as host from "../abi/hostcalls";

// Envoy's level can change at run time, so it is read again once per top-level callback.
let cachedLevel: i32 = -1;

/** Forgets the cached level; called by the dispatcher on entry of every callback. */
export function resetLogLevel(): void {
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

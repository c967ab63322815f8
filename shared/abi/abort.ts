/** The `abort` hook the build points at (--use abort=…): log once at critical, then trap. */
import { proxy_log } from "./imports";
import { LogLevel } from "./enums";

// A fixed text avoids allocating on a heap that may be broken when abort runs.
const ABORT_TEXT = "wasm abort: ";

export function onAbort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  let text = ABORT_TEXT;
  if (message !== null) text += message;
  if (fileName !== null) text += " at " + fileName + ":" + line.toString() + ":" + column.toString();
  const bytes = String.UTF8.encode(text);
  proxy_log(LogLevel.Critical, changetype<usize>(bytes), bytes.byteLength);
  unreachable();
}

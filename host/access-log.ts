/**
 * The access log: one line per request in the shape of Higress's default `accessLogFormat` (a
 * JSON object written as Envoy TEXT format, from the Higress helm chart's mesh config), with the
 * fields a token gateway needs, `ai_log` first as in Higress. One list of fields: the host
 * gateway writes each line from it, and scripts/gen-envoy.ts makes envoy/envoy.yaml's log format
 * from it.
 */
import type { HeaderList } from "./stream-api.ts";

/** JSON key and Envoy command operator, in the order printed. */
export const ACCESS_LOG_FIELDS: ReadonlyArray<readonly [string, string]> = [
  ["ai_log", "%FILTER_STATE(wasm.ai_log:PLAIN)%"],
  ["consumer", "%REQ(X-MSE-CONSUMER)%"],
  ["duration", "%DURATION%"],
  ["method", "%REQ(:METHOD)%"],
  ["path", "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%"],
  ["request_id", "%REQ(X-REQUEST-ID)%"],
  ["response_code", "%RESPONSE_CODE%"],
  ["route_name", "%ROUTE_NAME%"],
];

/** Envoy's text format string: `{"ai_log":"%FILTER_STATE(wasm.ai_log:PLAIN)%",…}` and a newline. */
export function accessLogFormat(): string {
  return `{${ACCESS_LOG_FIELDS.map(([key, command]) => `"${key}":"${command}"`).join(",")}}\n`;
}

/** What the gateway knows of a stream when it ends. */
export interface StreamRecord {
  /** The request headers as the filters left them (key-auth's X-Mse-Consumer included). */
  requestHeaders: HeaderList;
  responseCode: number | null;
  /** The stream's filter state; a plugin's `proxy_set_property(["ai_log"])` is Envoy's `wasm.ai_log`. */
  filterState: Map<string, Uint8Array>;
  routeName: string | null;
  durationMs: number;
}

const WASM_STATE = "wasm.";

/** One operator's value; Envoy prints `-` for an absent one. Values go in as they are (Envoy does not escape them either). */
function value(command: string, record: StreamRecord): string {
  const header = (name: string) => record.requestHeaders.find(([k]) => k === name)?.[1];
  const operator = /^%([A-Z_]+)(?:\((.*)\))?%$/.exec(command)!;
  const argument = operator[2] ?? "";
  switch (operator[1]) {
    case "FILTER_STATE": {
      const key = argument.slice(0, argument.lastIndexOf(":"));
      const state = key.startsWith(WASM_STATE) ? record.filterState.get(key.slice(WASM_STATE.length)) : undefined;
      return state === undefined ? "-" : Buffer.from(state).toString("utf8");
    }
    case "REQ": {
      for (const name of argument.toLowerCase().split("?")) {
        const found = header(name);
        if (found !== undefined) return found;
      }
      return "-";
    }
    case "DURATION":
      return String(Math.round(record.durationMs));
    case "RESPONSE_CODE":
      return String(record.responseCode ?? 0);
    case "ROUTE_NAME":
      return record.routeName ?? "-";
  }
  throw new Error(`access log: no operator ${command}`);
}

/** The line for `record`, without its newline. */
export function accessLogLine(record: StreamRecord): string {
  return `{${ACCESS_LOG_FIELDS.map(([key, command]) => `"${key}":"${value(command, record)}"`).join(",")}}`;
}

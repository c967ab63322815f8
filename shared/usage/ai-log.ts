/**
 * The `ai_log` filter state (property `ai_log`, Envoy's `wasm.ai_log`), which Higress's access log
 * prints with `%FILTER_STATE(wasm.ai_log:PLAIN)%` inside a quoted JSON field. As Higress's wasm-go
 * (WriteUserAttributeToLogWithKey), it holds one JSON object written as the contents of a JSON
 * string (`{\"k\":\"v\"}`, no outer quotes), and each writer merges: read it, add its keys (a key
 * it sets replaces the one there), write it back, keys sorted as Go's encoding/json writes a map.
 * Other plugins (ai-statistics, ai-proxy) write it too, so it is read with our own parser, which
 * never traps; a value that is not such an object is left as it is, with a warning, as wasm-go does.
 */
import { PropertyPath, getProperty, setProperty, logWarn } from "../index";
import { parseJson, JsonKind, JsonValue, jsonString } from "../json/index";

const AI_LOG = new PropertyPath(["ai_log"]);

/** `value` as JSON text: numbers as they were written, strings escaped as Go does. */
function written(value: JsonValue): string {
  switch (value.kind) {
    case JsonKind.Null:
      return "null";
    case JsonKind.Bool:
      return value.bool ? "true" : "false";
    case JsonKind.Number:
      return value.text;
    case JsonKind.String:
      return jsonString(value.text);
    case JsonKind.Array: {
      let out = "[";
      for (let i = 0; i < value.items.length; i++) out += (i > 0 ? "," : "") + written(unchecked(value.items[i]));
      return out + "]";
    }
    default: {
      let out = "{";
      for (let i = 0; i < value.keys.length; i++) out += (i > 0 ? "," : "") + jsonString(unchecked(value.keys[i])) + ":" + written(unchecked(value.items[i]));
      return out + "}";
    }
  }
}

/** The object in the filter state now; an empty one when there is none; null when it is no such object. */
function current(): JsonValue | null {
  const bytes = getProperty(AI_LOG);
  if (bytes === null || bytes.byteLength == 0) {
    const empty = new JsonValue();
    empty.kind = JsonKind.Object;
    return empty;
  }
  const outer = parseJson('"' + String.UTF8.decode(bytes) + '"').value;
  if (outer === null || outer.kind != JsonKind.String) return null;
  const inner = parseJson(outer.text).value;
  return inner !== null && inner.kind == JsonKind.Object ? inner : null;
}

/** One plugin's attributes for this stream's `ai_log`; valid while the stream lives. */
export class AiLog {
  private keys: Array<string> = [];
  private values: Array<string> = [];

  string(key: string, value: string): AiLog {
    return this.raw(key, jsonString(value));
  }
  int(key: string, value: i64): AiLog {
    return this.raw(key, value.toString());
  }
  bool(key: string, value: bool): AiLog {
    return this.raw(key, value ? "true" : "false");
  }

  private raw(key: string, json: string): AiLog {
    const at = this.keys.indexOf(key);
    if (at >= 0) this.values[at] = json;
    else {
      this.keys.push(key);
      this.values.push(json);
    }
    return this;
  }

  /** Merges the attributes set so far into the filter state; `plugin` names the warning. */
  write(plugin: string): void {
    const before = current();
    if (before === null) {
      logWarn(plugin + ": ai_log in filter state is not a JSON object; left as it is");
      return;
    }
    const keys = this.keys.slice(0);
    for (let i = 0; i < before.keys.length; i++) {
      const key = unchecked(before.keys[i]);
      if (!keys.includes(key)) keys.push(key);
    }
    keys.sort();
    let object = "{";
    for (let i = 0; i < keys.length; i++) {
      const key = unchecked(keys[i]);
      const ours = this.keys.indexOf(key);
      // A repeated key is read as Go reads it: the last one wins.
      const value = ours >= 0 ? unchecked(this.values[ours]) : written(before.get(key)!);
      object += (i > 0 ? "," : "") + jsonString(key) + ":" + value;
    }
    const quoted = jsonString(object + "}");
    setProperty(AI_LOG, String.UTF8.encode(quoted.substring(1, quoted.length - 1)));
  }
}

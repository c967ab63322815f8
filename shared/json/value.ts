/** JSON values as the config reader sees them: kinds, typed accessors, members in order. */

export enum JsonKind {
  Null,
  Bool,
  Number,
  String,
  Array,
  Object,
}

export class JsonValue {
  kind: JsonKind = JsonKind.Null;
  bool: bool = false;
  num: f64 = 0;
  /** The number as written (so integers can be checked exactly), or the unescaped string. */
  text: string = "";
  items: Array<JsonValue> = [];
  keys: Array<string> = [];

  static null(): JsonValue {
    return new JsonValue();
  }

  /** Member by key; the last one wins when a key repeats (as Go's encoding/json). Null when absent or not an object. */
  get(key: string): JsonValue | null {
    if (this.kind != JsonKind.Object) return null;
    for (let i = this.keys.length - 1; i >= 0; i--) {
      if (unchecked(this.keys[i]) == key) return unchecked(this.items[i]);
    }
    return null;
  }

  has(key: string): bool {
    return this.get(key) !== null;
  }

  /** True for a number written without fraction or exponent (its range is the reader's to check). */
  isInteger(): bool {
    if (this.kind != JsonKind.Number) return false;
    const t = this.text;
    for (let i = 0; i < t.length; i++) {
      const c = t.charCodeAt(i);
      if (c == 0x2e || c == 0x65 || c == 0x45) return false;
    }
    return true;
  }

  /** A short description for error messages: `"abc"`, `42`, `an object`, … (strings cut at 40 characters). */
  describe(): string {
    switch (this.kind) {
      case JsonKind.Null:
        return "null";
      case JsonKind.Bool:
        return this.bool ? "true" : "false";
      case JsonKind.Number:
        return this.text;
      case JsonKind.String:
        return this.text.length > 40 ? '"' + this.text.slice(0, 40) + '…"' : '"' + this.text + '"';
      case JsonKind.Array:
        return "an array";
      default:
        return "an object";
    }
  }
}

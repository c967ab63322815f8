/**
 * The subset of OpenAPI v3 schema our spec.yaml files use (type, properties, required, items,
 * allOf, anyOf/oneOf of required sets, not-enum, enum, pattern, minLength, minimum/maximum,
 * minItems/maxItems, and our `x-fallback`): a validator, and a generator of configurations that
 * each change one field of the example.
 */
export interface Schema {
  type?: "object" | "array" | "string" | "boolean" | "integer";
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  allOf?: Schema[];
  anyOf?: Schema[];
  oneOf?: Schema[];
  not?: Schema;
  /** A field of a consumer that, absent, takes the top-level field of this name (key-auth's per-consumer keys and flags). */
  "x-fallback"?: string;
  enum?: unknown[];
  pattern?: string;
  minLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  default?: unknown;
  example?: unknown;
}

export type Path = Array<string | number>;

/** Where a config breaks its schema: the fields a refusal must name, every one, or (a combination of fields) one of them. */
export interface Problem {
  fields: Path[];
  anyOne?: boolean;
}

/** `rule_items[1].limit_keys[0].key`, as the plugins write paths. */
export function formatPath(path: Path): string {
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`)).join("");
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function hasType(type: Schema["type"], value: unknown): boolean {
  switch (type) {
    case undefined: return true;
    case "object": return isObject(value);
    case "array": return Array.isArray(value);
    case "string": return typeof value === "string";
    case "boolean": return typeof value === "boolean";
    case "integer": return Number.isInteger(value);
  }
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Every problem of `value` against `schema`; none means valid. `root` is the whole config, where `x-fallback` fields are found. */
export function validate(schema: Schema, value: unknown, path: Path = [], root: unknown = value): Problem[] {
  const here = [{ fields: [path] }];
  if (!hasType(schema.type, value)) return here;
  if (schema.enum && !schema.enum.some((v) => same(v, value))) return here;
  if (schema.not && validate(schema.not, value, path, root).length === 0) return here;
  if (typeof value === "string") {
    if (schema.minLength !== undefined && value.length < schema.minLength) return here;
    if (schema.pattern !== undefined && !new RegExp(schema.pattern).test(value)) return here;
  }
  if (typeof value === "number") {
    if (schema.minimum !== undefined && value < schema.minimum) return here;
    if (schema.maximum !== undefined && value > schema.maximum) return here;
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) return here;
    if (schema.maxItems !== undefined && value.length > schema.maxItems) return here;
    if (schema.items) return value.flatMap((item, i) => validate(schema.items!, item, [...path, i], root));
    return [];
  }
  if (!isObject(value)) return [];
  const problems: Problem[] = [];
  // A field absent here that falls back is checked as the top-level value it takes.
  const effective: Record<string, unknown> = { ...value };
  const fallbacks: Path[] = [];
  for (const [key, property] of Object.entries(schema.properties ?? {})) {
    const fallback = property["x-fallback"];
    if (fallback === undefined || key in value || !isObject(root) || !(fallback in root)) continue;
    effective[key] = root[fallback];
    fallbacks.push([fallback]);
  }
  for (const key of schema.required ?? []) if (!(key in effective)) problems.push({ fields: [[...path, key]] });
  for (const [key, property] of Object.entries(schema.properties ?? {})) {
    if (key in effective) problems.push(...validate(property, effective[key], [...path, key], root));
  }
  for (const sub of schema.allOf ?? []) {
    for (const problem of validate(sub, effective, path, root)) problems.push(problem.anyOne ? { fields: [...problem.fields, ...fallbacks], anyOne: true } : problem);
  }
  // Which fields go together is said only of fields that are each valid: a wrong type is its own problem.
  for (const [branches, exactlyOne] of [[schema.anyOf, false], [schema.oneOf, true]] as const) {
    if (!branches || problems.length > 0) continue;
    const holding = branches.filter((b) => validate(b, effective, path, root).length === 0).length;
    const named = [...new Set(branches.flatMap((b) => [...(b.required ?? []), ...Object.keys(b.properties ?? {})]))].map((k) => [...path, k]);
    if (exactlyOne ? holding !== 1 : holding === 0) problems.push({ fields: [...named, ...fallbacks], anyOne: true });
  }
  return problems;
}

export interface Case {
  /** What was changed, e.g. `redis.timeout = 3600001`. */
  name: string;
  config: unknown;
}

function clone<T>(value: T): T {
  return structuredClone(value);
}

function at(doc: unknown, path: Path): unknown {
  return path.reduce<unknown>((v, p) => (v as Record<string | number, unknown> | undefined)?.[p], doc);
}

function changed(doc: unknown, path: Path, value: unknown | typeof REMOVE): unknown {
  const copy = clone(doc);
  const parent = at(copy, path.slice(0, -1)) as Record<string | number, unknown>;
  const key = path[path.length - 1];
  if (value === REMOVE) delete parent[key];
  else parent[key] = clone(value);
  return copy;
}

const REMOVE = Symbol("remove");

/** A value of every JSON type the field's type is not; none of them is one of Higress's lenient spellings ("true", "100"). */
const WRONG_TYPES: Record<NonNullable<Schema["type"]>, unknown[]> = {
  string: [42, {}],
  boolean: ["yes", [true]],
  integer: ["ten", true, {}],
  array: [42, {}],
  object: ["text", []],
};

/** Strings tried against a `pattern`: each must configure exactly when the pattern matches it. */
const PATTERN_PROBES = ["", "/", "x", "/x", "quota", "/quota/refresh", "from-remote-addr", "from-header-", "from-header-x-real-ip", "from-remote-addr-x", "tab\there", "line\nbreak", "nul\u0000", "del\u007f"];

/**
 * The values a field is set to: its default, its example (unless the config example already gives
 * it a value, which is then its example in context), its boundaries and their neighbours, wrong types.
 */
function candidates(schema: Schema, present: boolean): unknown[] {
  const values: unknown[] = [];
  if (schema.default !== undefined) values.push(schema.default);
  if (schema.example !== undefined && !present) values.push(schema.example);
  if (schema.type) values.push(...WRONG_TYPES[schema.type]);
  if (schema.type === "boolean") values.push(true, false);
  for (const v of schema.enum ?? []) values.push(v);
  if (schema.enum && schema.type === "string") values.push("not-one-of-the-enum");
  if (schema.minimum !== undefined) values.push(schema.minimum, schema.minimum - 1);
  if (schema.maximum !== undefined) values.push(schema.maximum, schema.maximum + 1);
  if (schema.minLength) values.push("");
  if (schema.pattern !== undefined) values.push(...PATTERN_PROBES);
  if (schema.type === "array") {
    values.push([]);
    const item = schema.items?.example ?? "x";
    if (schema.maxItems !== undefined) values.push(Array.from({ length: schema.maxItems + 1 }, () => item));
    if (schema.items?.type) values.push(...WRONG_TYPES[schema.items.type].map((v) => [v]));
    if (schema.items?.minLength) values.push([""]);
  }
  return values.filter((v, i) => values.findIndex((w) => same(v, w)) === i);
}

/** `doc` made ready for `key` of the object at `path`: the fields of the other `oneOf` branches removed. */
function switchedTo(schema: Schema, doc: unknown, path: Path, key: string): unknown {
  const branches = schema.oneOf ?? [];
  if (!branches.some((b) => b.required?.includes(key))) return doc;
  let out = doc;
  for (const branch of branches) {
    if (branch.required?.includes(key)) continue;
    for (const other of branch.required ?? []) if (at(out, [...path, other]) !== undefined) out = changed(out, [...path, other], REMOVE);
  }
  return out;
}

/**
 * Configurations that differ from `doc` (valid against `schema`) in one field of the object at
 * `path`, then of every nested object: a field absent from `doc` is first added with its example;
 * in an array of objects the last item is the one changed (the earlier ones stay as the example
 * has them). Classify each with `validate`.
 */
export function* schemaCases(schema: Schema, doc: unknown, path: Path = []): Generator<Case> {
  for (const [key, property] of Object.entries(schema.properties ?? {})) {
    const field = [...path, key];
    let base = doc;
    const present = at(doc, field) !== undefined;
    if (!present) {
      const seed = property.example ?? property.default;
      if (seed === undefined) continue;
      base = changed(switchedTo(schema, doc, path, key), field, seed);
    }
    for (const value of candidates(property, present)) yield { name: `${formatPath(field)} = ${JSON.stringify(value)}`, config: changed(base, field, value) };
    if (schema.required?.includes(key)) yield { name: `${formatPath(field)} missing`, config: changed(doc, field, REMOVE) };
    if (property.type === "object") yield* schemaCases(property, base, field);
    const list = at(base, field);
    if (property.type === "array" && property.items?.type === "object" && Array.isArray(list) && list.length > 0) {
      yield* schemaCases(property.items, base, [...field, list.length - 1]);
    }
  }
}

/** Whether a log line names the field at `path`: its whole path, or its name and the path of the object holding it (Higress's words, e.g. `'token_per_hour' … at global_threshold`). */
export function namesField(message: string, path: Path): boolean {
  if (message.includes(formatPath(path))) return true;
  const leaf = path[path.length - 1];
  return typeof leaf === "string" && message.includes(leaf) && message.includes(formatPath(path.slice(0, -1)));
}

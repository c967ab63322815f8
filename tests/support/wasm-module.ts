/** Writes tiny wasm modules with chosen imports and exports, for Envoy's load checks. */

type Val = "i32" | "i64";
const CODE: Record<Val, number> = { i32: 0x7f, i64: 0x7e };

export interface FuncSpec {
  params?: Val[];
  results?: Val[];
}

function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

function str(s: string): number[] {
  const bytes = [...Buffer.from(s, "utf8")];
  return [...leb(bytes.length), ...bytes];
}

function section(id: number, body: number[]): number[] {
  return [id, ...leb(body.length), ...body];
}

/**
 * Function bodies return zero values; an exported memory is always included. `initCalls` names an
 * import that the `_initialize` export calls with zero arguments (for restricted-phase checks).
 */
export function wasmModule(spec: { imports?: Record<string, FuncSpec>; exports: Record<string, FuncSpec>; initCalls?: string }): Uint8Array {
  const types: string[] = [];
  const typeIndex = (f: FuncSpec) => {
    const key = JSON.stringify([f.params ?? [], f.results ?? []]);
    let i = types.indexOf(key);
    if (i < 0) i = types.push(key) - 1;
    return i;
  };
  const imports = Object.entries(spec.imports ?? {});
  const exports = Object.entries(spec.exports);
  const importBody: number[] = [...leb(imports.length)];
  for (const [name, f] of imports) {
    const [module, field] = name.includes(".") ? name.split(".") : ["env", name];
    importBody.push(...str(module), ...str(field), 0x00, ...leb(typeIndex(f)));
  }
  const funcBody: number[] = [...leb(exports.length)];
  const codeBody: number[] = [...leb(exports.length)];
  for (const [name, f] of exports) {
    funcBody.push(...leb(typeIndex(f)));
    const results = f.results ?? [];
    let instr = results.flatMap((r) => (r === "i32" ? [0x41, 0x00] : [0x42, 0x00]));
    if (name === "_initialize" && spec.initCalls) {
      const index = imports.findIndex(([n]) => n === spec.initCalls);
      const callee = imports[index][1];
      const args = (callee.params ?? []).flatMap((p) => (p === "i32" ? [0x41, 0x00] : [0x42, 0x00]));
      const drops = (callee.results ?? []).map(() => 0x1a);
      instr = [...args, 0x10, ...leb(index), ...drops];
    }
    const body = [0x00, ...instr, 0x0b];
    codeBody.push(...leb(body.length), ...body);
  }
  const exportBody: number[] = [...leb(exports.length + 1)];
  exports.forEach(([name], i) => exportBody.push(...str(name), 0x00, ...leb(imports.length + i)));
  exportBody.push(...str("memory"), 0x02, 0x00);
  const typeBody: number[] = [...leb(types.length)];
  for (const key of types) {
    const [params, results] = JSON.parse(key) as [Val[], Val[]];
    typeBody.push(0x60, ...leb(params.length), ...params.map((p) => CODE[p]), ...leb(results.length), ...results.map((r) => CODE[r]));
  }
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, typeBody),
    ...section(2, importBody),
    ...section(3, funcBody),
    ...section(5, [1, 0x00, 1]),
    ...section(7, exportBody),
    ...section(10, codeBody),
  ]);
}

/** The smallest module Envoy accepts: a marker, an allocator and the context callback. */
export function minimalExports(): Record<string, FuncSpec> {
  return {
    proxy_abi_version_0_2_1: {},
    proxy_on_memory_allocate: { params: ["i32"], results: ["i32"] },
    proxy_on_context_create: { params: ["i32", "i32"] },
  };
}

/** Reads the type, import, function and export sections of a wasm module (Node cannot show signatures). */

export type ValType = "i32" | "i64" | "f32" | "f64" | "v128" | "ref";

export interface FuncType {
  params: ValType[];
  results: ValType[];
}

export interface ImportEntry {
  module: string;
  name: string;
  kind: "func" | "table" | "memory" | "global";
  type?: FuncType;
}

export interface ExportEntry {
  name: string;
  kind: "func" | "table" | "memory" | "global";
  type?: FuncType;
}

export interface ModuleInfo {
  imports: ImportEntry[];
  /** In declaration order; ABI markers are chosen by this order. */
  exports: ExportEntry[];
}

const VALTYPES: Record<number, ValType> = { 0x7f: "i32", 0x7e: "i64", 0x7d: "f32", 0x7c: "f64", 0x7b: "v128", 0x70: "ref", 0x6f: "ref" };
const KINDS = ["func", "table", "memory", "global"] as const;

class Reader {
  pos = 0;
  constructor(private readonly bytes: Uint8Array) {}
  get done(): boolean {
    return this.pos >= this.bytes.length;
  }
  byte(): number {
    if (this.pos >= this.bytes.length) throw new Error("unexpected end of module");
    return this.bytes[this.pos++];
  }
  u32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
      if (shift > 35) throw new Error("LEB128 too long");
    }
  }
  name(): string {
    const len = this.u32();
    const s = Buffer.from(this.bytes.subarray(this.pos, this.pos + len)).toString("utf8");
    this.pos += len;
    return s;
  }
  skip(n: number): void {
    this.pos += n;
  }
  limits(): void {
    const flags = this.byte();
    this.u32();
    if (flags & 1) this.u32();
  }
}

function valType(code: number): ValType {
  const t = VALTYPES[code];
  if (!t) throw new Error(`unknown value type 0x${code.toString(16)}`);
  return t;
}

/** Parses the sections needed for Envoy's load checks; throws on a malformed module. */
export function readModule(bytes: Uint8Array): ModuleInfo {
  const r = new Reader(bytes);
  const magic = [0x00, 0x61, 0x73, 0x6d];
  for (const m of magic) if (r.byte() !== m) throw new Error("not a wasm module");
  r.skip(4);
  const types: FuncType[] = [];
  const imports: ImportEntry[] = [];
  const funcTypes: number[] = [];
  const exports: ExportEntry[] = [];
  let importedFuncs = 0;
  while (!r.done) {
    const id = r.byte();
    const size = r.u32();
    const end = r.pos + size;
    if (id === 1) {
      const n = r.u32();
      for (let i = 0; i < n; i++) {
        if (r.byte() !== 0x60) throw new Error("bad function type");
        const params = Array.from({ length: r.u32() }, () => valType(r.byte()));
        const results = Array.from({ length: r.u32() }, () => valType(r.byte()));
        types.push({ params, results });
      }
    } else if (id === 2) {
      const n = r.u32();
      for (let i = 0; i < n; i++) {
        const module = r.name();
        const name = r.name();
        const kind = r.byte();
        if (kind === 0) {
          const type = types[r.u32()];
          imports.push({ module, name, kind: "func", type });
          funcTypes.push(types.indexOf(type));
          importedFuncs++;
        } else if (kind === 1) {
          r.byte();
          r.limits();
          imports.push({ module, name, kind: "table" });
        } else if (kind === 2) {
          r.limits();
          imports.push({ module, name, kind: "memory" });
        } else {
          r.byte();
          r.byte();
          imports.push({ module, name, kind: "global" });
        }
      }
    } else if (id === 3) {
      const n = r.u32();
      for (let i = 0; i < n; i++) funcTypes.push(r.u32());
    } else if (id === 7) {
      const n = r.u32();
      for (let i = 0; i < n; i++) {
        const name = r.name();
        const kind = KINDS[r.byte()] ?? "func";
        const index = r.u32();
        exports.push({ name, kind, type: kind === "func" ? types[funcTypes[index]] : undefined });
      }
    }
    r.pos = end;
  }
  void importedFuncs;
  return { imports, exports };
}

export function signature(type: FuncType | undefined): string {
  if (!type) return "?";
  return `(${type.params.join(",")})->(${type.results.join(",")})`;
}

/** Constants read from the AssemblyScript sources, so tests use the one definition the code has. */
import { readFileSync } from "node:fs";
import { repoRoot } from "./paths.ts";

/** The value of `export const <name>[: type] = <value>;` in `file` (from the repository root), quotes dropped. */
export function sourceConstant(file: string, name: string): string {
  const match = new RegExp(`export const ${name}(?:: \\w+)? = "?([^";]+)"?;`).exec(readFileSync(`${repoRoot}${file}`, "utf8"));
  if (!match) throw new Error(`no constant ${name} in ${file}`);
  return match[1];
}

/** The string values of every `export const X = "…";` in `file` (from the repository root), in order. */
export function sourceStrings(file: string): string[] {
  return [...readFileSync(`${repoRoot}${file}`, "utf8").matchAll(/^export const \w+ = "([^"]+)";/gm)].map((m) => m[1]);
}

/** `export const <name> = new LocalReply(status, "<body>", "details"[, type, code]);` in `file`: a local reply as the plugin defines it. */
export function sourceReply(file: string, name: string): { status: number; body: string } {
  const match = new RegExp(`export const ${name} = new \\w+\\((\\d{3}), "((?:[^"\\\\]|\\\\.)*)", "[^"]+"[^;]*\\);`).exec(readFileSync(`${repoRoot}${file}`, "utf8"));
  if (!match) throw new Error(`no reply ${name} in ${file}`);
  return { status: Number(match[1]), body: JSON.parse(`"${match[2]}"`) };
}

/** The body of a local reply constant (sourceReply). */
export function sourceReplyBody(file: string, name: string): string {
  return sourceReply(file, name).body;
}

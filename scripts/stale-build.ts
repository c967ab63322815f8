/** Which built modules are missing or older than the newest source they are built from, so `npm start` never runs a stale build. */
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

/** The newest modification time of the sources under `dirs`: AssemblyScript and Lua, not generated files. */
function newestSource(dirs: string[]): number {
  let newest = 0;
  const visit = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) visit(path);
      else if (/\.(ts|lua)$/.test(entry.name) && !entry.name.endsWith(".generated.ts")) newest = Math.max(newest, statSync(path).mtimeMs);
    }
  };
  for (const dir of dirs) if (existsSync(dir)) visit(dir);
  return newest;
}

/** The modules (paths) to build: those missing, and those older than any source, since every module shares `shared/`. */
export function staleModules(modules: string[], sourceDirs: string[]): string[] {
  const newest = newestSource(sourceDirs);
  return modules.filter((file) => !existsSync(file) || statSync(file).mtimeMs < newest);
}

// Compiles every plugin entry (plugins/<name>/index.ts) and host probe (tests/host/probe/<name>.ts)
// into build/<name>.wasm (release) and build/debug/<name>.wasm, with the flags Envoy needs.
import asc from "assemblyscript/asc";
import { readdirSync, existsSync, mkdirSync, statSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
process.chdir(root);

function entries() {
  const list = [];
  for (const name of existsSync("plugins") ? readdirSync("plugins").sort() : []) {
    const entry = join("plugins", name, "index.ts");
    if (existsSync(entry)) list.push({ name, entry, out: "build" });
  }
  if (existsSync("tests/host/probe")) {
    for (const file of readdirSync("tests/host/probe").sort()) {
      if (file.endsWith(".ts") && !file.endsWith(".d.ts")) {
        list.push({ name: file.slice(0, -3), entry: join("tests/host/probe", file), out: "build/probe" });
      }
    }
  }
  return list;
}

const only = process.argv.slice(2);
let failed = 0;
for (const { name, entry, out } of entries()) {
  if (only.length && !only.includes(name)) continue;
  for (const target of ["release", "debug"]) {
    const dir = target === "release" ? out : join(out, "debug");
    mkdirSync(dir, { recursive: true });
    const outFile = join(dir, `${name}.wasm`);
    const { error, stderr } = await asc.main([entry, "--config", "asconfig.json", "--target", target, "-o", outFile]);
    if (error) {
      failed++;
      console.error(`build: ${entry} (${target}) failed\n${stderr.toString()}`);
    } else if (target === "release") {
      console.log(`build: ${outFile} ${statSync(outFile).size} bytes`);
    }
  }
}
if (failed) process.exit(1);

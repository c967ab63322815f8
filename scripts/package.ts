/**
 * `npm run package`: an OCI image layout per plugin, build/oci/<name>/, in Higress's Wasm plugin
 * image format and tagged with package.json's version (`--tag <tag>` for another), made without
 * Docker. packaging/README.md says how to push one and point Higress at it.
 */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "../tests/support/paths.ts";
import { writeImageLayout, type Descriptor } from "./oci/layout.ts";
import { higressWasmImage } from "./oci/higress-wasm-image.ts";

export const OCI_DIR = "build/oci";
export const VERSION: string = JSON.parse(readFileSync(`${repoRoot}package.json`, "utf8")).version;

/** The plugins `npm run build` compiles: every plugins/<name>/ with an index.ts. */
export function pluginNames(): string[] {
  return readdirSync(`${repoRoot}plugins`).filter((name) => existsSync(`${repoRoot}plugins/${name}/index.ts`)).sort();
}

function source(file: string): Buffer {
  const path = `${repoRoot}${file}`;
  if (!existsSync(path)) throw new Error(`package: ${file} is missing${file.endsWith(".wasm") ? " (run npm run build)" : ""}`);
  return readFileSync(path);
}

/** Writes `<outDir>/<name>/` from build/<name>.wasm, plugins/<name>/spec.yaml and README.md. */
export function packagePlugin(name: string, outDir = `${repoRoot}${OCI_DIR}`, tag = VERSION): { dir: string; manifest: Descriptor } {
  const image = higressWasmImage({
    spec: source(`plugins/${name}/spec.yaml`),
    readme: source(`plugins/${name}/README.md`),
    wasm: source(`build/${name}.wasm`),
  });
  const dir = join(outDir, name);
  return { dir, manifest: writeImageLayout(dir, tag, image) };
}

if (process.argv[1]?.endsWith("package.ts")) {
  const at = process.argv.indexOf("--tag");
  const tag = at > 0 ? process.argv[at + 1] : VERSION;
  if (!tag || !/^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/.test(tag)) {
    console.error(`package: --tag needs a tag of letters, digits, '_', '.' and '-', got ${tag ?? "nothing"}`);
    process.exit(2);
  }
  for (const name of pluginNames()) {
    const { manifest } = packagePlugin(name, undefined, tag);
    console.log(`${OCI_DIR}/${name}:${tag}  ${manifest.digest}`);
  }
  console.log(`push one: oras cp --from-oci-layout ${OCI_DIR}/<plugin>:${tag} <registry>/<repository>:${tag}`);
}

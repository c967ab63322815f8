/**
 * `npm run package` (scripts/package.ts): each plugin's OCI image layout is one that oras and skopeo
 * can push, in Higress's Wasm plugin image format, read back with the system's tar and gzip.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { packagePlugin, pluginNames, VERSION } from "../../scripts/package.ts";
import { pluginWasm, repoRoot } from "../support/paths.ts";

// Higress's spec (higress.cn, "Wasm Plugin Image Specification", section 2) and its image workflow
// (alibaba/higress .github/workflows/build-and-push-wasm-plugin-image.yaml): a layer per file, these
// types, plugin.wasm last in a tar+gzip layer; the config oras 1.0 writes when given none.
const LAYERS = [
  ["spec.yaml", "application/vnd.module.wasm.spec.v1+yaml"],
  ["README.md", "application/vnd.module.wasm.doc.v1+markdown"],
  ["README_EN.md", "application/vnd.module.wasm.doc.v1.EN+markdown"],
  ["plugin.tar.gz", "application/vnd.oci.image.layer.v1.tar+gzip"],
];
const CONFIG = { mediaType: "application/vnd.unknown.config.v1+json", digest: "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", size: 2 };

const out = mkdtempSync(join(tmpdir(), "oci-package-"));
process.on("exit", () => rmSync(out, { recursive: true, force: true }));

const hex = (data: Uint8Array) => createHash("sha256").update(data).digest("hex");
const blob = (dir: string, digest: string) => readFileSync(join(dir, "blobs", "sha256", digest.replace(/^sha256:/, "")));

test("npm run package packages every plugin npm run build compiles", () => {
  assert.deepEqual(pluginNames(), ["ai-quota", "ai-statistics", "ai-token-ratelimit", "key-auth"]);
});

for (const name of pluginNames()) {
  test(`${name}: an OCI image layout whose index names the manifest by tag, with the right digest and size`, () => {
    const { dir } = packagePlugin(name, out);
    assert.deepEqual(JSON.parse(readFileSync(join(dir, "oci-layout"), "utf8")), { imageLayoutVersion: "1.0.0" });
    const index = JSON.parse(readFileSync(join(dir, "index.json"), "utf8"));
    assert.equal(index.schemaVersion, 2);
    assert.equal(index.mediaType, "application/vnd.oci.image.index.v1+json");
    assert.equal(index.manifests.length, 1);
    const [entry] = index.manifests;
    assert.equal(entry.mediaType, "application/vnd.oci.image.manifest.v1+json");
    assert.deepEqual(entry.annotations, { "org.opencontainers.image.ref.name": VERSION }, "oras cp / skopeo copy find it as <dir>:<version>");
    const manifest = blob(dir, entry.digest);
    assert.equal(manifest.length, entry.size);
    assert.equal(`sha256:${hex(manifest)}`, entry.digest);
  });

  test(`${name}: every blob's sha256 is its file name, and the blobs are exactly what the manifest names`, () => {
    const { dir, manifest: descriptor } = packagePlugin(name, out);
    const files = readdirSync(join(dir, "blobs", "sha256"));
    for (const file of files) assert.equal(hex(readFileSync(join(dir, "blobs", "sha256", file))), file);
    const manifest = JSON.parse(blob(dir, descriptor.digest).toString());
    const named = [descriptor, manifest.config, ...manifest.layers];
    for (const d of named) assert.equal(blob(dir, d.digest).length, d.size, `${d.digest} has the size its descriptor says`);
    assert.deepEqual(files.sort(), [...new Set(named.map((d) => d.digest.slice("sha256:".length)))].sort());
  });

  test(`${name}: Higress's layers in Higress's order, each holding its file, and the config oras writes`, () => {
    const { dir, manifest: descriptor } = packagePlugin(name, out);
    const manifest = JSON.parse(blob(dir, descriptor.digest).toString());
    assert.equal(manifest.schemaVersion, 2);
    assert.equal(manifest.mediaType, "application/vnd.oci.image.manifest.v1+json");
    assert.deepEqual(manifest.config, CONFIG);
    assert.deepEqual(JSON.parse(blob(dir, manifest.config.digest).toString()), {});
    assert.deepEqual(manifest.layers.map((l: any) => [l.annotations["org.opencontainers.image.title"], l.mediaType]), LAYERS);
    const [spec, readme, readmeEn] = manifest.layers.map((l: any) => blob(dir, l.digest));
    assert.deepEqual(spec, readFileSync(`${repoRoot}plugins/${name}/spec.yaml`));
    assert.deepEqual(readme, readFileSync(`${repoRoot}plugins/${name}/README.md`));
    assert.deepEqual(readmeEn, readme, "our README is English: README_EN.md is the same file");
  });

  test(`${name}: the last layer, read by the system's tar and gzip, is exactly one plugin.wasm equal to build/${name}.wasm`, () => {
    const { dir, manifest: descriptor } = packagePlugin(name, out);
    const layers = JSON.parse(blob(dir, descriptor.digest).toString()).layers;
    const archive = join(dir, "blobs", "sha256", layers[layers.length - 1].digest.slice("sha256:".length));
    const listing = execFileSync("tar", ["--numeric-owner", "-tvzf", archive], { encoding: "utf8" }).trim().split("\n");
    assert.equal(listing.length, 1, listing.join("\n"));
    assert.match(listing[0], /^-rw-r--r-- 0\/0 +\d+ 1970-01-01 00:00 plugin\.wasm$/, "a regular file, owner 0, mtime 0");
    const wasm = execFileSync("tar", ["-xzOf", archive, "plugin.wasm"], { maxBuffer: 1 << 26 });
    assert.deepEqual(wasm, readFileSync(pluginWasm(name)));
  });

  test(`${name}: packaging twice gives the same digests`, () => {
    const first = packagePlugin(name, join(out, "first"));
    const second = packagePlugin(name, join(out, "second"));
    assert.deepEqual(second.manifest, first.manifest);
    assert.deepEqual(readdirSync(join(second.dir, "blobs", "sha256")).sort(), readdirSync(join(first.dir, "blobs", "sha256")).sort());
  });
}

/**
 * Writes an OCI image layout (image-spec v1.1 `image-layout.md`): `oci-layout`, `index.json` naming
 * one manifest by tag, and every blob under `blobs/sha256/<digest>`. What `oras cp --from-oci-layout`
 * and `skopeo copy oci:` read.
 */
import { createHash } from "node:crypto";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const MANIFEST_MEDIA_TYPE = "application/vnd.oci.image.manifest.v1+json";
export const INDEX_MEDIA_TYPE = "application/vnd.oci.image.index.v1+json";
/** The annotation in index.json that gives a manifest its tag in the layout. */
export const REF_NAME_ANNOTATION = "org.opencontainers.image.ref.name";
/** The annotation oras gives each file it pushes, and names the file by when it pulls. */
export const TITLE_ANNOTATION = "org.opencontainers.image.title";

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

export interface Blob {
  mediaType: string;
  data: Uint8Array;
  annotations?: Record<string, string>;
}

export const sha256 = (data: Uint8Array): string => `sha256:${createHash("sha256").update(data).digest("hex")}`;

/**
 * Replaces `dir` with a layout whose index names one image manifest, `tag`, of `config` and `layers`
 * in that order. Returns the manifest's descriptor.
 */
export function writeImageLayout(dir: string, tag: string, image: { config: Blob; layers: Blob[] }): Descriptor {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, "blobs", "sha256"), { recursive: true });
  const store = (blob: Blob): Descriptor => {
    const digest = sha256(blob.data);
    writeFileSync(join(dir, "blobs", "sha256", digest.slice("sha256:".length)), blob.data);
    return { mediaType: blob.mediaType, digest, size: blob.data.length, ...(blob.annotations && { annotations: blob.annotations }) };
  };
  const manifest = {
    schemaVersion: 2,
    mediaType: MANIFEST_MEDIA_TYPE,
    config: store(image.config),
    layers: image.layers.map(store),
  };
  const descriptor = store({ mediaType: MANIFEST_MEDIA_TYPE, data: Buffer.from(JSON.stringify(manifest)) });
  const index = { schemaVersion: 2, mediaType: INDEX_MEDIA_TYPE, manifests: [{ ...descriptor, annotations: { [REF_NAME_ANNOTATION]: tag } }] };
  writeFileSync(join(dir, "index.json"), JSON.stringify(index));
  writeFileSync(join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  return descriptor;
}

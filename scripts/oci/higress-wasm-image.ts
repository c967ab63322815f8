/**
 * Higress's Wasm plugin image (higress.cn "Wasm Plugin Image Specification", section 2): one file
 * per layer, each with the media type its name calls for, and plugin.wasm in the last layer as a
 * tar.gz. Istio's and Envoy Gateway's image fetchers read the same last layer ("compat" variant:
 * the last layer is a tar+gzip holding plugin.wasm), and Higress's plugin-server takes the .wasm
 * from the tar+gzip layer, so this one image serves all three.
 */
import { gzipSync } from "node:zlib";
import { tar } from "./tar.ts";
import { TITLE_ANNOTATION, type Blob } from "./layout.ts";

export const SPEC_MEDIA_TYPE = "application/vnd.module.wasm.spec.v1+yaml";
export const README_MEDIA_TYPE = "application/vnd.module.wasm.doc.v1+markdown";
/** README_{lang}.md's type; Higress's image workflow spells the language as the file name does. */
export const README_EN_MEDIA_TYPE = "application/vnd.module.wasm.doc.v1.EN+markdown";
export const PLUGIN_MEDIA_TYPE = "application/vnd.oci.image.layer.v1.tar+gzip";
/** What `oras push` (1.0, as in Higress's workflow) writes when given no config: the empty JSON object. */
export const CONFIG_MEDIA_TYPE = "application/vnd.unknown.config.v1+json";
export const PLUGIN_FILE = "plugin.wasm";

export interface PluginFiles {
  spec: Uint8Array;
  readme: Uint8Array;
  wasm: Uint8Array;
}

const layer = (title: string, mediaType: string, data: Uint8Array): Blob => ({ mediaType, data, annotations: { [TITLE_ANNOTATION]: title } });

/** plugin.wasm alone in a tar.gz; the gzip header's OS byte, which zlib sets by platform, is fixed to 3 (Unix). */
function pluginArchive(wasm: Uint8Array): Buffer {
  const gz = gzipSync(tar([{ name: PLUGIN_FILE, data: wasm }]), { level: 9 });
  gz[9] = 3;
  return gz;
}

/**
 * The image's config and layers: spec.yaml, README.md, README_EN.md, plugin.tar.gz. Our READMEs are
 * English, so README_EN.md is README.md: the same bytes, one blob, for tools that look for English
 * by its media type.
 */
export function higressWasmImage(files: PluginFiles): { config: Blob; layers: Blob[] } {
  return {
    config: { mediaType: CONFIG_MEDIA_TYPE, data: Buffer.from("{}") },
    layers: [
      layer("spec.yaml", SPEC_MEDIA_TYPE, files.spec),
      layer("README.md", README_MEDIA_TYPE, files.readme),
      layer("README_EN.md", README_EN_MEDIA_TYPE, files.readme),
      layer("plugin.tar.gz", PLUGIN_MEDIA_TYPE, pluginArchive(files.wasm)),
    ],
  };
}

/** Where build outputs live, independent of the working directory. */
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));

export const repoRoot = root;
export const probeWasm = (name: string) => `${root}build/probe/${name}.wasm`;
export const pluginWasm = (name: string) => `${root}build/${name}.wasm`;

// as-pect 8 configuration: unit tests of the AssemblyScript library in shared/.
export default {
  entries: ["tests/unit/**/*.spec.ts"],
  include: ["tests/unit/**/*.include.ts"],
  disclude: [/node_modules/],
  async instantiate(memory, createImports, instantiate, binary) {
    return instantiate(binary, createImports({ env: { memory } }));
  },
  outputBinary: false,
};

/** A plugin that does nothing: the baseline for load checks and benchmarks. */
export * from "../../shared/abi/exports";

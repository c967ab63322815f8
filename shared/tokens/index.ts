// Public surface of the token-usage library used by the AI plugins.
export { TokenUsage } from "./usage";
export { UsageReader, readUsage } from "./response-reader";
export { RequestInfo, readRequestInfoAt, injectStreamUsageAt } from "./request-body";
export { shouldReadUsage } from "./content-type";

// Public surface of the token-usage library used by the AI plugins.
export { TokenUsage } from "./usage";
export { UsageReader, readUsage } from "./response-reader";
export { RequestInfo, readRequestInfoAt, injectStreamUsageAt, REFUSE_NONE, REFUSE_ENCODING, REFUSE_KEY, REFUSE_STREAM } from "./request-body";
export { START_MORE, START_OBJECT, START_OTHER, START_WIDE, requestBodyStart, readableRequestEncoding } from "./request-start";
export { shouldReadUsage } from "./content-type";

/** What a plugin needs from the runtime; plugins import this, never shared/abi/imports. */
export { Status, HeaderAction, DataAction, TrailersAction, LogLevel, MetricType, RedisStatus } from "./abi/enums";
export { RootContext, HttpContext } from "./runtime/context";
export { setRootContextFactory } from "./runtime/registry";
export {
  Header, HeaderPairs,
  getRequestHeader, hasRequestHeader, getRequestHeaders, getRequestHeaderPairs, setRequestHeader, addRequestHeader, removeRequestHeader,
  getResponseHeader, getResponseHeaders, setResponseHeader, addResponseHeader, removeResponseHeader,
  getRequestBody, requestBodySize, setRequestBody, getResponseBody, setResponseBody, setResponseBodyAt, BodyReader, readRequestBody, readResponseBody,
  sendLocalResponse, continueRequest, continueResponse,
} from "./runtime/http";
export { PropertyPath, getProperty, getPropertyString, borrowProperty, borrowedSize, releaseBorrowed, setProperty, setPropertyAt, ROUTE_NAME, CLUSTER_NAME, SOURCE_ADDRESS } from "./runtime/properties";
export { logEnabled, logTrace, logDebug, logInfo, logWarn, logError, logCritical } from "./runtime/log";
export { defineMetric, incrementMetric, recordMetric, getMetric, counter, aiMetricName, LabelledCounters, StreamCounters, MAX_COUNTER_NAMES, OVERFLOW_LABEL, nowNanos, setTickPeriod } from "./runtime/metrics";
export { RedisCallback, redisInit, redisCall } from "./runtime/redis-calls";

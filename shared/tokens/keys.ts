// Key ids and path tables for the usage fields that Higress reads (higress-behavior.md §1.6), and
// the chat id ai-statistics logs (`id`, `response.id`, `responseId`, `message.id`).

/** Ids of the JSON keys that can appear on a usage or model path; 0 is any other key. */
export const KEY_OTHER: u8 = 0;
const KEY_NAMES: StaticArray<string> = [
  "usage", "usageMetadata", "response", "message", "body", "model", "modelVersion",
  "prompt_tokens", "input_tokens", "completion_tokens", "output_tokens", "total_tokens",
  "promptTokenCount", "candidatesTokenCount", "totalTokenCount",
  "cache_creation_input_tokens", "cache_read_input_tokens", "id", "responseId",
];
const K_USAGE: u32 = 1;
const K_USAGE_METADATA: u32 = 2;
const K_RESPONSE: u32 = 3;
const K_MESSAGE: u32 = 4;
const K_BODY: u32 = 5;
const K_MODEL: u32 = 6;
const K_MODEL_VERSION: u32 = 7;
const K_PROMPT_TOKENS: u32 = 8;
const K_INPUT_TOKENS: u32 = 9;
const K_COMPLETION_TOKENS: u32 = 10;
const K_OUTPUT_TOKENS: u32 = 11;
const K_TOTAL_TOKENS: u32 = 12;
const K_PROMPT_TOKEN_COUNT: u32 = 13;
const K_CANDIDATES_TOKEN_COUNT: u32 = 14;
const K_TOTAL_TOKEN_COUNT: u32 = 15;
const K_CACHE_CREATION: u32 = 16;
const K_CACHE_READ: u32 = 17;
const K_ID: u32 = 18;
const K_RESPONSE_ID: u32 = 19;

/** Longest key name we need to recognise; longer keys are KEY_OTHER. */
export const MAX_KEY_LENGTH: i32 = 32;

/** Which usage field a value feeds. */
export const FIELD_NONE: i32 = 0;
export const FIELD_MODEL: i32 = 1;
export const FIELD_INPUT: i32 = 2;
export const FIELD_OUTPUT: i32 = 3;
export const FIELD_TOTAL: i32 = 4;
export const FIELD_CACHE_CREATION: i32 = 5;
export const FIELD_CACHE_READ: i32 = 6;
/** The chat id: read only by a reader asked for it (JsonUsageStream.readsId). */
export const FIELD_ID: i32 = 7;
/** Number of FIELD_* values. */
export const FIELD_COUNT: i32 = 8;

const KEY_BYTES: StaticArray<ArrayBuffer> = buildKeyBytes();

function buildKeyBytes(): StaticArray<ArrayBuffer> {
  const out = new StaticArray<ArrayBuffer>(KEY_NAMES.length);
  for (let i = 0; i < KEY_NAMES.length; i++) out[i] = String.UTF8.encode(KEY_NAMES[i]);
  return out;
}


function keyIs(ptr: usize, id: u32): bool {
  const name = unchecked(KEY_BYTES[id - 1]);
  return memory.compare(changetype<usize>(name), ptr, <usize>name.byteLength) == 0;
}

/** Returns the key id of the raw key bytes at ptr (KEY_OTHER when not on any usage path). */
export function keyIdOf(ptr: usize, len: i32): u8 {
  // Dispatch on length first: most keys of a response (id, object, choices, delta, …) stop here.
  switch (len) {
    case 2:
      return keyIs(ptr, K_ID) ? <u8>K_ID : KEY_OTHER;
    case 4:
      return keyIs(ptr, K_BODY) ? <u8>K_BODY : KEY_OTHER;
    case 5:
      if (keyIs(ptr, K_USAGE)) return <u8>K_USAGE;
      return keyIs(ptr, K_MODEL) ? <u8>K_MODEL : KEY_OTHER;
    case 7:
      return keyIs(ptr, K_MESSAGE) ? <u8>K_MESSAGE : KEY_OTHER;
    case 8:
      return keyIs(ptr, K_RESPONSE) ? <u8>K_RESPONSE : KEY_OTHER;
    case 10:
      return keyIs(ptr, K_RESPONSE_ID) ? <u8>K_RESPONSE_ID : KEY_OTHER;
    case 12:
      if (keyIs(ptr, K_INPUT_TOKENS)) return <u8>K_INPUT_TOKENS;
      if (keyIs(ptr, K_TOTAL_TOKENS)) return <u8>K_TOTAL_TOKENS;
      return keyIs(ptr, K_MODEL_VERSION) ? <u8>K_MODEL_VERSION : KEY_OTHER;
    case 13:
      if (keyIs(ptr, K_PROMPT_TOKENS)) return <u8>K_PROMPT_TOKENS;
      if (keyIs(ptr, K_OUTPUT_TOKENS)) return <u8>K_OUTPUT_TOKENS;
      return keyIs(ptr, K_USAGE_METADATA) ? <u8>K_USAGE_METADATA : KEY_OTHER;
    case 15:
      return keyIs(ptr, K_TOTAL_TOKEN_COUNT) ? <u8>K_TOTAL_TOKEN_COUNT : KEY_OTHER;
    case 16:
      return keyIs(ptr, K_PROMPT_TOKEN_COUNT) ? <u8>K_PROMPT_TOKEN_COUNT : KEY_OTHER;
    case 17:
      return keyIs(ptr, K_COMPLETION_TOKENS) ? <u8>K_COMPLETION_TOKENS : KEY_OTHER;
    case 20:
      return keyIs(ptr, K_CANDIDATES_TOKEN_COUNT) ? <u8>K_CANDIDATES_TOKEN_COUNT : KEY_OTHER;
    case 23:
      return keyIs(ptr, K_CACHE_READ) ? <u8>K_CACHE_READ : KEY_OTHER;
    case 27:
      return keyIs(ptr, K_CACHE_CREATION) ? <u8>K_CACHE_CREATION : KEY_OTHER;
    default:
      return KEY_OTHER;
  }
}

/** Keys whose object, directly under a document, can hold a usage or model field. */
export function isContainerKey(key: u32): bool {
  return key == K_USAGE || key == K_USAGE_METADATA || key == K_RESPONSE || key == K_MESSAGE || key == K_BODY;
}

/** Keys whose object, one level further down (response.usage, message.usage), can hold counts. */
export function isUsageKey(key: u32): bool {
  return key == K_USAGE;
}

// Inlined so that every path below is a constant, not a call per value read.
@inline
function path2(a: u32, b: u32): u32 {
  return (a << 8) | b;
}

@inline
function path3(a: u32, b: u32, c: u32): u32 {
  return (a << 16) | (b << 8) | c;
}

/** Maps a key path code (one key id per byte, outermost first) to field * 8 + priority, or -1; lower priority wins as in Higress. */
export function fieldOfPath(code: u32): i32 {
  if (code == K_MODEL) return FIELD_MODEL * 8;
  if (code == path2(K_BODY, K_MODEL)) return FIELD_MODEL * 8 + 1;
  if (code == path2(K_RESPONSE, K_MODEL)) return FIELD_MODEL * 8 + 2;
  if (code == path2(K_MESSAGE, K_MODEL)) return FIELD_MODEL * 8 + 3;
  if (code == K_MODEL_VERSION) return FIELD_MODEL * 8 + 4;
  if (code == path2(K_USAGE, K_PROMPT_TOKENS)) return FIELD_INPUT * 8;
  if (code == path2(K_USAGE, K_INPUT_TOKENS)) return FIELD_INPUT * 8 + 1;
  if (code == path3(K_RESPONSE, K_USAGE, K_INPUT_TOKENS)) return FIELD_INPUT * 8 + 2;
  if (code == path2(K_USAGE_METADATA, K_PROMPT_TOKEN_COUNT)) return FIELD_INPUT * 8 + 3;
  if (code == path3(K_MESSAGE, K_USAGE, K_INPUT_TOKENS)) return FIELD_INPUT * 8 + 4;
  if (code == path2(K_USAGE, K_COMPLETION_TOKENS)) return FIELD_OUTPUT * 8;
  if (code == path2(K_USAGE, K_OUTPUT_TOKENS)) return FIELD_OUTPUT * 8 + 1;
  if (code == path3(K_RESPONSE, K_USAGE, K_OUTPUT_TOKENS)) return FIELD_OUTPUT * 8 + 2;
  if (code == path2(K_USAGE_METADATA, K_CANDIDATES_TOKEN_COUNT)) return FIELD_OUTPUT * 8 + 3;
  if (code == path3(K_MESSAGE, K_USAGE, K_OUTPUT_TOKENS)) return FIELD_OUTPUT * 8 + 4;
  if (code == path2(K_USAGE, K_TOTAL_TOKENS)) return FIELD_TOTAL * 8;
  if (code == path3(K_RESPONSE, K_USAGE, K_TOTAL_TOKENS)) return FIELD_TOTAL * 8 + 1;
  if (code == path2(K_USAGE_METADATA, K_TOTAL_TOKEN_COUNT)) return FIELD_TOTAL * 8 + 2;
  if (code == path2(K_USAGE, K_CACHE_CREATION)) return FIELD_CACHE_CREATION * 8;
  if (code == path2(K_USAGE, K_CACHE_READ)) return FIELD_CACHE_READ * 8;
  // The chat id, in Higress's order (tokenusage's ChatIdPath*).
  if (code == K_ID) return FIELD_ID * 8;
  if (code == path2(K_RESPONSE, K_ID)) return FIELD_ID * 8 + 1;
  if (code == K_RESPONSE_ID) return FIELD_ID * 8 + 2;
  if (code == path2(K_MESSAGE, K_ID)) return FIELD_ID * 8 + 3;
  return -1;
}

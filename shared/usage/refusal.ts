/**
 * The replies to a request body the AI plugins cannot read as the upstream would (A1): refused
 * with 400, never forwarded unread. Both plugins' README Errors tables list exactly these.
 */
import { REFUSE_ENCODING, REFUSE_KEY } from "../tokens/index";
import { LocalReply, INVALID_REQUEST, sendReply } from "../reply/local-reply";

export type BodyRefusal = LocalReply;
const INVALID_BODY = "invalid_request_body";

export const UNREADABLE_ENCODING = new LocalReply(400, "Request denied: the request body must be UTF-8, without a content-encoding.", "ai.request_body_refused", INVALID_REQUEST, INVALID_BODY);
export const UNDECIDABLE_KEY = new LocalReply(400, "Request denied: a key in the request body is not valid Unicode, or differs from model, stream, stream_options or include_usage only in letter case.", "ai.request_body_refused", INVALID_REQUEST, INVALID_BODY);
export const NON_BOOLEAN_STREAM = new LocalReply(400, "Request denied: stream in the request body must be true, false or null.", "ai.request_body_refused", INVALID_REQUEST, INVALID_BODY);
/** With reserve_tokens only: the reservation is sized by these, so they must be read as the upstream reads them. */
export const UNDECIDABLE_LIMIT = new LocalReply(400, "Request denied: max_tokens, max_completion_tokens, max_output_tokens and n in the request body must be whole numbers or null, spelt in lower case.", "ai.request_body_refused", INVALID_REQUEST, INVALID_BODY);

/** The reply for a REFUSE_* reason of the request reader (not REFUSE_NONE). */
export function refusalOf(reason: i32): BodyRefusal {
  if (reason == REFUSE_ENCODING) return UNREADABLE_ENCODING;
  return reason == REFUSE_KEY ? UNDECIDABLE_KEY : NON_BOOLEAN_STREAM;
}

/** Answers the request with the refusal (OpenAI error JSON with `openAi`); the plugin then keeps it from going upstream. */
export function refuseRequestBody(refusal: BodyRefusal, openAi: bool): void {
  sendReply(refusal, openAi);
}

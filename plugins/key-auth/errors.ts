/**
 * Every local reply key-auth sends: status, body, details code. The README's error table lists
 * exactly these. The bodies are the Higress README's table, word for word (K1); the invalid-key
 * and unauthorized-consumer ones are also what Higress's built-in key-auth sends.
 */

export const WWW_AUTHENTICATE = "www-authenticate";
export const WWW_AUTHENTICATE_VALUE = "Key realm=MSE Gateway";

export class KeyAuthError {
  constructor(public status: u32, public body: string, public details: string) {}
}

export const NO_KEY = new KeyAuthError(401, "Request denied by Key Auth check. No API key found in request", "key-auth.no_key");
export const MULTIPLE_KEYS = new KeyAuthError(401, "Request denied by Key Auth check. Multiple API keys found in request", "key-auth.multi_key");
export const INVALID_KEY = new KeyAuthError(401, "Request denied by Key Auth check. Invalid API key", "key-auth.unauthorized");
export const NOT_ALLOWED = new KeyAuthError(403, "Request denied by Key Auth check. Unauthorized consumer", "key-auth.unauthorized");

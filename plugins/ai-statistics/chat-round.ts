/**
 * Higress's `chat_round`: how many user turns the request body holds. The messages whose `role` is
 * `user` (OpenAI and Anthropic `messages`), else the Gemini `contents` without a role or with role
 * `user`; 0 when the body has neither. Read in place from the body's bytes (json-path.ts).
 */
import { skipSpace, skipValue, skipString } from "../../shared/tokens/json-bytes";
import { memberValue } from "./json-path";

const MESSAGES = String.UTF8.encode("messages");
const CONTENTS = String.UTF8.encode("contents");
const ROLE = String.UTF8.encode("role");
const USER = String.UTF8.encode('"user"');

/** Whether the value at pos is the JSON string "user" (its bytes as written). */
function isUser(ptr: usize, end: i32, pos: i32): bool {
  const valueEnd = skipString(ptr, end, pos);
  return valueEnd - pos == USER.byteLength && memory.compare(ptr + <usize>pos, changetype<usize>(USER), <usize>USER.byteLength) == 0;
}

/** The user turns of the array at pos; `roleless` counts elements without a role too (Gemini). */
function countUsers(ptr: usize, end: i32, pos: i32, roleless: bool): i32 {
  let count = 0;
  let at = skipSpace(ptr, end, pos + 1);
  while (at < end && load<u8>(ptr + <usize>at) != 0x5d) {
    if (load<u8>(ptr + <usize>at) == 0x7b) {
      const role = memberValue(ptr, end, at, ROLE, false);
      if (role < 0 ? roleless : load<u8>(ptr + <usize>role) == 0x22 && isUser(ptr, end, role)) count++;
    }
    const valueEnd = skipValue(ptr, end, at);
    if (valueEnd < 0) break;
    at = skipSpace(ptr, end, valueEnd);
    if (at >= end || load<u8>(ptr + <usize>at) != 0x2c) break;
    at = skipSpace(ptr, end, at + 1);
  }
  return count;
}

/** The chat round of the request body's `size` bytes at ptr (a JSON object, its first byte at `start`). */
export function chatRound(ptr: usize, size: i32, start: i32): i32 {
  if (start < 0 || start >= size || load<u8>(ptr + <usize>start) != 0x7b) return 0;
  const messages = memberValue(ptr, size, start, MESSAGES, false);
  if (messages >= 0 && load<u8>(ptr + <usize>messages) == 0x5b) return countUsers(ptr, size, messages, false);
  const contents = memberValue(ptr, size, start, CONTENTS, false);
  if (contents >= 0 && load<u8>(ptr + <usize>contents) == 0x5b) return countUsers(ptr, size, contents, true);
  return 0;
}

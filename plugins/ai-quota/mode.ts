/** Which kind of request this is, by path suffix (§4.3 step 4, decision Q2). */
import { splitPath, decodeComponent } from "../../shared/url/index";
import { QuotaConfig } from "./config";

export enum Mode {
  None,
  Chat,
  AdminQuery,
  AdminRefresh,
  AdminDelta,
}

/** Every LLM endpoint that reports usage is checked and charged, not only chat completions (Q2). */
const LLM_SUFFIXES: StaticArray<string> = ["/v1/chat/completions", "/v1/completions", "/v1/responses", "/v1/messages", "/v1/embeddings"];
const GEMINI_METHODS: StaticArray<string> = [":generateContent", ":streamGenerateContent"];

/** Whether the path has a query, a fragment or an escape: most have none and are matched as they are. */
function needsDecoding(path: string): bool {
  for (let i = 0; i < path.length; i++) {
    const c = load<u16>(changetype<usize>(path) + (<usize>i << 1));
    if (c == 0x3f || c == 0x23 || c == 0x25) return true;
  }
  return false;
}

export function modeOf(rawPath: string, config: QuotaConfig): Mode {
  let path = rawPath;
  if (needsDecoding(rawPath)) {
    const raw = splitPath(rawPath).path;
    // A bad escape keeps the raw path: checking it is safer than skipping the quota.
    const decoded = decodeComponent(raw, false);
    path = decoded === null ? raw : decoded;
  }
  if (path.endsWith(config.adminRefresh)) return Mode.AdminRefresh;
  if (path.endsWith(config.adminDelta)) return Mode.AdminDelta;
  if (path.endsWith(config.adminQuery)) return Mode.AdminQuery;
  for (let i = 0; i < LLM_SUFFIXES.length; i++) if (path.endsWith(LLM_SUFFIXES[i])) return Mode.Chat;
  for (let i = 0; i < GEMINI_METHODS.length; i++) if (path.endsWith(GEMINI_METHODS[i])) return Mode.Chat;
  return Mode.None;
}

/** Which kind of request this is: the admin API by its documented path suffixes (§4.3 step 4, Q1), else an LLM call (Q2). */
import { splitPath, decodeComponent } from "../../shared/url/index";
import { QuotaConfig } from "./config";

export enum Mode {
  Chat,
  AdminQuery,
  AdminRefresh,
  AdminDelta,
}

/** Whether the path has a query, a fragment or an escape: most have none and are matched as they are. */
function needsDecoding(path: string): bool {
  for (let i = 0; i < path.length; i++) {
    const c = load<u16>(changetype<usize>(path) + (<usize>i << 1));
    if (c == 0x3f || c == 0x23 || c == 0x25) return true;
  }
  return false;
}

/**
 * The admin API answers only its documented paths, matched as Higress does (a suffix of the
 * decoded path, case and slashes as written). Every other request is an LLM call, checked and
 * charged (Q2): upstreams serve `/v1/chat/completions/`, `/V1/Chat/Completions`,
 * `/v1/chat//completions`, `…;x=1`, Azure's `/openai/deployments/<d>/chat/completions` or
 * Ollama's `/api/chat` alike, so no list of LLM paths can be a boundary. A look-alike of an admin
 * path (`…/quota/`, `/V1/…/quota`) is therefore checked as an LLM call, never answered as admin.
 */
export function modeOf(rawPath: string, config: QuotaConfig): Mode {
  let path = rawPath;
  if (needsDecoding(rawPath)) {
    const raw = splitPath(rawPath).path;
    // A bad escape keeps the raw path, matched as written (Higress then skips the check).
    const decoded = decodeComponent(raw, false);
    path = decoded === null ? raw : decoded;
  }
  if (path.endsWith(config.adminRefresh)) return Mode.AdminRefresh;
  if (path.endsWith(config.adminDelta)) return Mode.AdminDelta;
  if (path.endsWith(config.adminQuery)) return Mode.AdminQuery;
  return Mode.Chat;
}

/** Writing JSON strings for replies (e.g. ai-quota's `{"consumer":"c","quota":5}`), escaped as Go does. */

const HEX = "0123456789abcdef";

/** `text` as a quoted JSON string; `<`, `>` and `&` become \u003c, \u003e, \u0026 like Go's encoding/json. */
export function jsonString(text: string): string {
  let out = '"';
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    let escaped: string | null = null;
    if (c == 0x22) escaped = '\\"';
    else if (c == 0x5c) escaped = "\\\\";
    else if (c == 0x0a) escaped = "\\n";
    else if (c == 0x0d) escaped = "\\r";
    else if (c == 0x09) escaped = "\\t";
    else if (c < 0x20 || c == 0x3c || c == 0x3e || c == 0x26 || c == 0x2028 || c == 0x2029) {
      escaped = "\\u" + HEX.charAt((c >> 12) & 15) + HEX.charAt((c >> 8) & 15) + HEX.charAt((c >> 4) & 15) + HEX.charAt(c & 15);
    }
    if (escaped !== null) {
      out += text.substring(start, i) + escaped;
      start = i + 1;
    }
  }
  return out + text.substring(start) + '"';
}

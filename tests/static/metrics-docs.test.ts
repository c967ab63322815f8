/** Each AI plugin's metric names and ai_log keys are its README's, in both directions (issue 17). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { repoRoot } from "../support/paths.ts";
import { sourceStrings as constants } from "../support/source-constants.ts";

/** The section's first-column names of its tables: `` | `a`, `b` | … `` gives a and b. */
function tableNames(section: string): string[] {
  return [...section.matchAll(/^\| (`[^|]+`) \|/gm)].filter((m) => !m[1].includes("<")).flatMap((m) => [...m[1].matchAll(/`([^`]+)`/g)].map((n) => n[1]));
}

for (const plugin of ["ai-quota", "ai-token-ratelimit", "ai-statistics"]) {
  test(`${plugin}: the README's "Metrics and access log" tables list exactly metrics.ts's names and ai-log-keys.ts's keys`, () => {
    const readme = readFileSync(`${repoRoot}plugins/${plugin}/README.md`, "utf8");
    const start = readme.indexOf("## Metrics and access log");
    assert.ok(start >= 0, "the section exists");
    const end = readme.indexOf("\n## ", start + 1);
    const section = readme.slice(start, end < 0 ? undefined : end);
    const [metrics, keys] = section.split("The access log:");
    assert.deepEqual(tableNames(metrics).sort(), constants(`plugins/${plugin}/metrics.ts`).sort());
    const keyNames = constants(`plugins/${plugin}/ai-log-keys.ts`);
    const documented = tableNames(keys);
    // The values (`allowed`, `limited`) are in the value column; the keys are the first column.
    for (const key of documented) assert.ok(keyNames.includes(key), `${key} is a key of ai-log-keys.ts`);
    for (const value of keyNames) assert.ok(keys.includes(`\`${value}\``), `${value} is documented`);
  });
}

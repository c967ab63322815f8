/**
 * Where key-auth reads keys: one `KeySources` per distinct source configuration (key names and
 * the two flags), each with its own credential map. Consumers that read the same sources share
 * one, so a request costs one lookup per distinct configuration, whatever the number of
 * consumers. Pure: no host calls.
 */
import { lowerAscii } from "../../shared/text/index";

/** The key names the Higress console writes as the global `keys` when every consumer has its own. */
export const PLACEHOLDER_KEY = "x-higress-dummy-key";

export class KeySources {
  /** `keys` lower-cased: header names match case-insensitively, query names exactly. */
  headerKeys: Array<string> = [];
  /** credential → index of its consumer in `consumers` (config order). */
  credentials: Map<string, i32> = new Map();

  constructor(public keys: Array<string>, public inHeader: bool, public inQuery: bool) {
    for (let i = 0; i < keys.length; i++) this.headerKeys.push(lowerAscii(unchecked(keys[i])));
  }

  /** Equal for two configurations that read the same values from every request. */
  signature(): string {
    // Length-prefixed names: no key name, whatever it holds, can make two different sets look alike.
    return (this.inHeader ? "h" + encodeSet(this.headerKeys) : "") + (this.inQuery ? "q" + encodeSet(this.keys) : "");
  }

  /** Whether one value in a request can reach both: a header or a query name they both read. */
  overlaps(other: KeySources): bool {
    if (this.inHeader && other.inHeader && shareOne(this.headerKeys, other.headerKeys)) return true;
    return this.inQuery && other.inQuery && shareOne(this.keys, other.keys);
  }
}

function encodeSet(names: Array<string>): string {
  const sorted = names.slice(0).sort();
  let out = "";
  for (let i = 0; i < sorted.length; i++) {
    const name = unchecked(sorted[i]);
    if (i > 0 && name == unchecked(sorted[i - 1])) continue;
    out += name.length.toString() + ":" + name;
  }
  return out;
}

function shareOne(a: Array<string>, b: Array<string>): bool {
  for (let i = 0; i < a.length; i++) if (b.includes(unchecked(a[i]))) return true;
  return false;
}

/** A credential already configured: where, and which sources read it. */
class Owner {
  constructor(public sources: KeySources, public where: string, public next: Owner | null) {}
}

/** The source groups of one configuration, built consumer by consumer. */
export class SourceGroups {
  list: Array<KeySources> = [];
  private bySignature: Map<string, KeySources> = new Map();
  private owners: Map<string, Owner> = new Map();

  /** The group for these sources: an existing one with the same signature, or `sources` added. */
  groupOf(sources: KeySources): KeySources {
    const signature = sources.signature();
    if (this.bySignature.has(signature)) return this.bySignature.get(signature);
    this.bySignature.set(signature, sources);
    this.list.push(sources);
    return sources;
  }

  /**
   * Adds `credential` for consumer `index` in `group`; returns the path of a credential it
   * clashes with, or null. Two consumers may hold the same credential only when no request value
   * reaches both (say a header one and a query one): otherwise which of them it is would be a guess.
   */
  add(group: KeySources, credential: string, index: i32, where: string): string | null {
    const first: Owner | null = this.owners.has(credential) ? this.owners.get(credential) : null;
    let o = first;
    while (o !== null) {
      if (o.sources.overlaps(group)) return o.where;
      o = o.next;
    }
    this.owners.set(credential, new Owner(group, where, first));
    group.credentials.set(credential, index);
    return null;
  }
}

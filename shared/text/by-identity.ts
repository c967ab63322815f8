/**
 * The last few strings seen with a value made from each, found by the string's address. Names
 * from code and configuration (header names, ai_log keys) come back on every request as the same
 * objects, so comparing addresses answers before anything is hashed or escaped again. The list
 * holds the strings it lists, so none of their addresses can be reused by another string while
 * it is listed.
 */
export class RecentByIdentity<V> {
  private readonly keys: StaticArray<string | null>;
  private readonly values: StaticArray<V | null>;
  private next: i32 = 0;

  constructor(private readonly size: i32) {
    this.keys = new StaticArray<string | null>(size);
    this.values = new StaticArray<V | null>(size);
  }

  /** The value listed for this very string, or null. Inlined: it answers most header-name lookups. */
  @inline find(key: string): V | null {
    const keys = this.keys;
    for (let i = 0; i < this.size; i++) {
      if (changetype<usize>(unchecked(keys[i])) == changetype<usize>(key)) return unchecked(this.values[i]);
    }
    return null;
  }

  /** Lists `key` with `value`, in place of the oldest. */
  add(key: string, value: V): void {
    unchecked((this.keys[this.next] = key));
    unchecked((this.values[this.next] = value));
    this.next = (this.next + 1) % this.size;
  }
}

/**
 * Values by u32 id for ids the host hands out in sequence (context ids, Redis call tokens): a
 * direct-mapped table of SLOTS entries answers with one load and compare, and only an id whose
 * slot is taken by a live one goes to a map. A stream's every callback and every Redis reply looks
 * one up, and the few live at once mostly sit in distinct slots.
 */
const SLOTS: u32 = 64;
const MASK: u32 = SLOTS - 1;

export class IdTable<T> {
  private readonly ids: StaticArray<u32> = new StaticArray<u32>(SLOTS);
  private readonly values: StaticArray<T | null> = new StaticArray<T | null>(SLOTS);
  private readonly overflow: Map<u32, T> = new Map<u32, T>();

  get(id: u32): T | null {
    const slot = id & MASK;
    const value = unchecked(this.values[slot]);
    if (changetype<usize>(value) != 0 && unchecked(this.ids[slot]) == id) return value;
    if (this.overflow.size == 0 || !this.overflow.has(id)) return null;
    return this.overflow.get(id);
  }

  set(id: u32, value: T): void {
    const slot = id & MASK;
    const held = unchecked(this.values[slot]);
    if (changetype<usize>(held) != 0 && unchecked(this.ids[slot]) != id) {
      this.overflow.set(id, value);
      return;
    }
    // An id kept in the map while its slot was taken moves to its slot: never listed twice.
    if (this.overflow.size > 0) this.overflow.delete(id);
    unchecked((this.ids[slot] = id));
    unchecked((this.values[slot] = value));
  }

  /** Removes and returns the value, or null when there was none. */
  delete(id: u32): T | null {
    const slot = id & MASK;
    const value = unchecked(this.values[slot]);
    if (changetype<usize>(value) != 0 && unchecked(this.ids[slot]) == id) {
      unchecked((this.values[slot] = null));
      return value;
    }
    if (this.overflow.size == 0 || !this.overflow.has(id)) return null;
    const found = this.overflow.get(id);
    this.overflow.delete(id);
    return found;
  }
}

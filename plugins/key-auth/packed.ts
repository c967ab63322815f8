/**
 * Consumer names and credentials kept in flat buffers the collector never walks. As a
 * Map<string, i32> and an Array<string>, 10 000 consumers are 20 000 objects that every collection
 * (every 256 callbacks, shared/abi/memory.ts) marks: the mean request cost 3× what it did with 3
 * consumers. An ArrayBuffer holds no references, so here they are a handful of leaves.
 */

/** Bytes of the UTF-16 in `s`. */
function bytesOf(s: string): usize {
  return <usize>s.length << 1;
}

/** `buffer` with room for at least `needed` bytes, copied into a larger one when it has not. */
function ensure(buffer: ArrayBuffer, used: usize, needed: usize): ArrayBuffer {
  if (<usize>buffer.byteLength >= needed) return buffer;
  let size = <usize>buffer.byteLength << 1;
  if (size < needed) size = needed;
  const grown = new ArrayBuffer(<i32>size);
  memory.copy(changetype<usize>(grown), changetype<usize>(buffer), used);
  return grown;
}

/** An append-only list of strings: their UTF-16 back to back, and (offset, length) per string. */
export class PackedStrings {
  private text: ArrayBuffer = new ArrayBuffer(256);
  private textUsed: usize = 0;
  private spans: ArrayBuffer = new ArrayBuffer(64);
  length: i32 = 0;

  /** Appends `s`; returns its index. */
  push(s: string): i32 {
    const bytes = bytesOf(s);
    this.text = ensure(this.text, this.textUsed, this.textUsed + bytes);
    memory.copy(changetype<usize>(this.text) + this.textUsed, changetype<usize>(s), bytes);
    this.spans = ensure(this.spans, <usize>this.length << 3, (<usize>this.length + 1) << 3);
    const span = changetype<usize>(this.spans) + (<usize>this.length << 3);
    store<u32>(span, <u32>this.textUsed);
    store<u32>(span, <u32>bytes, 4);
    this.textUsed += bytes;
    return this.length++;
  }

  /** The string at `index` (0 ≤ index < length), as a new string. */
  get(index: i32): string {
    const span = changetype<usize>(this.spans) + (<usize>index << 3);
    return String.UTF16.decodeUnsafe(changetype<usize>(this.text) + load<u32>(span), load<u32>(span, 4));
  }

  /** Whether the string at `index` is `s`, compared in place. */
  equals(index: i32, s: string): bool {
    const span = changetype<usize>(this.spans) + (<usize>index << 3);
    const bytes = <usize>load<u32>(span, 4);
    return bytes == bytesOf(s) && memory.compare(changetype<usize>(this.text) + load<u32>(span), changetype<usize>(s), bytes) == 0;
  }
}

/** FNV-1a over the UTF-16 code units. */
function hashOf(s: string): u32 {
  let h: u32 = 2166136261;
  const p = changetype<usize>(s);
  for (let i = 0; i < s.length; i++) h = (h ^ <u32>load<u16>(p + (<usize>i << 1))) * 16777619;
  return h;
}

/** string → i32, open addressing over one buffer of (key index + 1, value) slots; keys in a PackedStrings. */
export class PackedMap {
  private keys: PackedStrings = new PackedStrings();
  private values: Array<i32> = [];
  private slots: ArrayBuffer = new ArrayBuffer(16 << 2);
  private capacity: u32 = 16;

  get size(): i32 {
    return this.keys.length;
  }

  /** The slot holding `key`, or the empty slot where it would go. */
  private slotOf(key: string): usize {
    const mask = this.capacity - 1;
    let i = hashOf(key) & mask;
    while (true) {
      const slot = changetype<usize>(this.slots) + (<usize>i << 2);
      const entry = load<i32>(slot);
      if (entry == 0 || this.keys.equals(entry - 1, key)) return slot;
      i = (i + 1) & mask;
    }
    return 0;
  }

  /** The value of `key`; -1 when absent. */
  get(key: string): i32 {
    const entry = load<i32>(this.slotOf(key));
    return entry == 0 ? -1 : unchecked(this.values[entry - 1]);
  }

  /** Sets `key` (one not yet present: config code checks first) to `value` (≥ 0). */
  add(key: string, value: i32): void {
    // At most half full, so a probe always ends at an empty slot soon.
    if (<u32>(this.keys.length + 1) << 1 > this.capacity) this.grow();
    store<i32>(this.slotOf(key), this.keys.push(key) + 1);
    this.values.push(value);
  }

  private grow(): void {
    this.capacity <<= 1;
    this.slots = new ArrayBuffer(<i32>this.capacity << 2);
    for (let k = 0; k < this.keys.length; k++) store<i32>(this.slotOf(this.keys.get(k)), k + 1);
  }
}

/** Deterministic random text (xorshift32) for the never-trap tests, so a failure always reproduces. */
export class RandomText {
  constructor(private state: u32) {}

  next(): u32 {
    let x = this.state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    this.state = x;
    return x;
  }

  /** A string of 0 to maxLength - 1 characters drawn from `alphabet` (UTF-16 units, so lone surrogates too). */
  string(alphabet: string, maxLength: i32): string {
    const length = <i32>(this.next() % <u32>maxLength);
    let out = "";
    for (let i = 0; i < length; i++) out += alphabet.charAt(<i32>(this.next() % <u32>alphabet.length));
    return out;
  }
}

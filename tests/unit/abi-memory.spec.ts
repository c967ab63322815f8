/// <reference path="./as-pect.d.ts" />
// Unit tests of where host blobs land: the reused landing block and the heap.
import { allocate, release, enterCallback, leaveCallback } from "../../shared/abi/memory";

describe("host blob allocation", () => {
  it("gives a blob that arrives while another is held its own block, and reuses the landing block once released", () => {
    const first = allocate(100);
    const second = allocate(100);
    expect(second).not.toBe(first);
    store<u8>(first, 1);
    store<u8>(second, 2);
    expect(load<u8>(first)).toBe(1);
    release(second);
    release(first);
    expect(allocate(50)).toBe(first);
    release(first);
  });

  it("puts a blob larger than the landing block on the heap", () => {
    const small = allocate(10);
    release(small);
    const large = allocate(64 << 10);
    expect(large).not.toBe(small);
    store<u8>(large + (64 << 10) - 1, 7);
    release(large);
    expect(allocate(10)).toBe(small);
    release(small);
  });

  it("frees the landing block when the outermost callback returns, even if a blob was never released", () => {
    enterCallback();
    const leaked = allocate(10);
    leaveCallback();
    enterCallback();
    expect(allocate(10)).toBe(leaked);
    leaveCallback();
  });
});

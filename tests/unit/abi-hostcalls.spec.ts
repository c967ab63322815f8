/// <reference path="./as-pect.d.ts" />
// Unit tests of the host-call wrappers' pure parts: the header-name encoding cache.
import { encodeName } from "../../shared/abi/hostcalls";

function text(bytes: ArrayBuffer): string {
  return String.UTF8.decode(bytes);
}

describe("encodeName", () => {
  it("gives each name's own bytes while more names than the recent list cycle through, literals and built ones alike", () => {
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 20; i++) {
        const built = "x-header-" + i.toString();
        expect(text(encodeName(built))).toBe(built);
        expect(text(encodeName("content-type"))).toBe("content-type");
        expect(text(encodeName(":authority"))).toBe(":authority");
      }
    }
  });

  it("answers an equal name built again with the same bytes, after the first is gone and collected", () => {
    const first = encodeName("x-" + "tenant");
    __collect();
    for (let i = 0; i < 40; i++) expect(text(encodeName("x-tenant-" + i.toString()))).toBe("x-tenant-" + i.toString());
    __collect();
    const again = encodeName("x-" + "tenant");
    expect(text(again)).toBe("x-tenant");
    expect(changetype<usize>(again)).toBe(changetype<usize>(first));
  });
});

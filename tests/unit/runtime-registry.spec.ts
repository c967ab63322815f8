/// <reference path="./as-pect.d.ts" />
// Unit tests of the context registry: lookups by id, with the last one found remembered.
import { createContext, deleteContext, getRoot, getStream } from "../../shared/runtime/registry";

function address<T>(context: T): usize {
  return changetype<usize>(context);
}

describe("context registry", () => {
  it("finds each live stream by id and none once deleted, even the one found just before", () => {
    createContext(1, 0);
    createContext(2, 1);
    createContext(3, 1);
    const second = getStream(2)!;
    expect(address(getStream(2))).toBe(address(second));
    expect(second.id).toBe(2);
    expect(getStream(3)!.id).toBe(3);
    deleteContext(2);
    expect(getStream(2)).toBeNull();
    expect(second.deleted).toBe(true);
    expect(getStream(3)!.id).toBe(3);
    expect(getStream(3)!.deleted).toBe(false);
  });

  it("gives an id created again its new stream and marks the one it replaces deleted", () => {
    createContext(10, 1);
    const first = getStream(10)!;
    createContext(10, 1);
    const again = getStream(10)!;
    expect(address(again)).not.toBe(address(first));
    expect(first.deleted).toBe(true);
    expect(again.deleted).toBe(false);
  });

  it("forgets a deleted root right after finding it, and finds the one created again under its id", () => {
    createContext(20, 0);
    const root = getRoot(20)!;
    expect(address(getRoot(20))).toBe(address(root));
    deleteContext(20);
    expect(getRoot(20)).toBeNull();
    createContext(20, 0);
    const again = getRoot(20)!;
    expect(address(again)).not.toBe(address(root));
    expect(address(getRoot(20))).toBe(address(again));
  });

  it("gives a stream whose root is unknown a context of its own, and registers no root for it", () => {
    createContext(31, 30);
    expect(getStream(31)!.id).toBe(31);
    expect(getStream(31)!.root.id).toBe(30);
    expect(getRoot(30)).toBeNull();
  });

  it("keeps streams and roots apart: deleting a stream id leaves a root of another id found", () => {
    createContext(40, 0);
    createContext(41, 40);
    expect(getRoot(40)!.id).toBe(40);
    deleteContext(41);
    expect(getStream(41)).toBeNull();
    expect(getRoot(40)!.id).toBe(40);
    expect(getStream(40)).toBeNull();
  });
});

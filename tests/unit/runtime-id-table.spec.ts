/// <reference path="./as-pect.d.ts" />
// Unit tests of IdTable: ids in sequence sit in slots, ids whose slot is taken go to the map, and
// no id is ever answered with another's value or twice.
import { IdTable } from "../../shared/runtime/id-table";

class Box {
  constructor(public id: u32) {}
}

function idOf(box: Box | null): i64 {
  return box === null ? -1 : <i64>box.id;
}

describe("IdTable", () => {
  it("finds ids set in sequence and none once deleted", () => {
    const table = new IdTable<Box>();
    for (let id: u32 = 1; id <= 40; id++) table.set(id, new Box(id));
    for (let id: u32 = 1; id <= 40; id++) expect(idOf(table.get(id))).toBe(<i64>id);
    expect(idOf(table.delete(7))).toBe(7);
    expect(idOf(table.get(7))).toBe(-1);
    expect(idOf(table.delete(7))).toBe(-1);
    expect(idOf(table.get(41))).toBe(-1);
  });

  it("keeps ids that share a slot apart (a slot's id and the map's), through every delete order", () => {
    const table = new IdTable<Box>();
    // 5, 69, 133 and 197 share one slot of the 64.
    table.set(5, new Box(5));
    table.set(69, new Box(69));
    table.set(133, new Box(133));
    expect(idOf(table.get(5))).toBe(5);
    expect(idOf(table.get(69))).toBe(69);
    expect(idOf(table.get(133))).toBe(133);
    expect(idOf(table.get(197))).toBe(-1);
    expect(idOf(table.delete(5))).toBe(5);
    expect(idOf(table.get(5))).toBe(-1);
    expect(idOf(table.get(69))).toBe(69);
    expect(idOf(table.delete(133))).toBe(133);
    expect(idOf(table.get(133))).toBe(-1);
    expect(idOf(table.delete(69))).toBe(69);
    expect(idOf(table.get(69))).toBe(-1);
  });

  it("moves an id kept in the map to its freed slot when set again, so a delete removes it for good", () => {
    const table = new IdTable<Box>();
    table.set(3, new Box(3));
    table.set(67, new Box(67));
    table.delete(3);
    const again = new Box(67);
    table.set(67, again);
    expect(changetype<usize>(table.get(67))).toBe(changetype<usize>(again));
    expect(idOf(table.delete(67))).toBe(67);
    expect(idOf(table.get(67))).toBe(-1);
    expect(idOf(table.delete(67))).toBe(-1);
  });

  it("replaces the value of an id set twice, in its slot and in the map", () => {
    const table = new IdTable<Box>();
    table.set(9, new Box(9));
    table.set(73, new Box(73));
    const slot = new Box(9);
    const mapped = new Box(73);
    table.set(9, slot);
    table.set(73, mapped);
    expect(changetype<usize>(table.get(9))).toBe(changetype<usize>(slot));
    expect(changetype<usize>(table.get(73))).toBe(changetype<usize>(mapped));
  });

  it("answers id 0 only once it is set", () => {
    const table = new IdTable<Box>();
    expect(idOf(table.get(0))).toBe(-1);
    table.set(0, new Box(0));
    expect(idOf(table.get(0))).toBe(0);
  });
});

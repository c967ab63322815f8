import { PackedMap, PackedStrings } from "../../plugins/key-auth/packed";

describe("key-auth packed names and credentials", () => {
  it("gives back every string as pushed, empty and non-ASCII ones too", () => {
    const names = new PackedStrings();
    const all = ["", "a", "consumer-é", "名字", "x".repeat(300)];
    for (let i = 0; i < all.length; i++) expect(names.push(all[i])).toBe(i);
    expect(names.length).toBe(all.length);
    for (let i = 0; i < all.length; i++) {
      expect(names.get(i)).toBe(all[i]);
      expect(names.equals(i, all[i])).toBe(true);
    }
    expect(names.equals(1, "b")).toBe(false);
    expect(names.equals(1, "ab")).toBe(false);
  });

  it("finds each of 20 000 credentials past every growth, and -1 for any other", () => {
    const map = new PackedMap();
    for (let i = 0; i < 20000; i++) map.add("key-" + i.toString(), i);
    expect(map.size).toBe(20000);
    let wrong = 0;
    for (let i = 0; i < 20000; i++) if (map.get("key-" + i.toString()) != i) wrong++;
    expect(wrong).toBe(0);
    expect(map.get("key-20000")).toBe(-1);
    expect(map.get("")).toBe(-1);
    expect(map.get("key-1 ")).toBe(-1);
    map.add("", 7);
    expect(map.get("")).toBe(7);
  });
});

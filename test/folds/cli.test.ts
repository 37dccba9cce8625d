import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it, vi } from "vitest";
import { command } from "../../src/cli/folds";
import { groupKFold } from "../../src/folds/index";

describe("matchlab folds", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "matchlab-cli-folds-"));
  const csv = path.join(dir, "train.csv");
  const rows = Array.from({ length: 30 }, (_, i) => `p${i},"title, ${i}",${100 + Math.floor(i / 3)},${i % 2 ? "en" : "fr"}`);
  writeFileSync(csv, `posting_id,title,label_group,locale\n${rows.join("\n")}\n`);
  vi.spyOn(console, "log").mockImplementation(() => {});

  it("writes posting_id,fold and a sidecar; group scheme equals groupKFold on numeric groups", async () => {
    const out = path.join(dir, "folds.csv");
    expect(await command.run(["--csv", csv, "--scheme", "group", "--k", "4", "--out", out])).toBe(0);
    const lines = readFileSync(out, "utf8").trim().split("\n");
    expect(lines[0]).toBe("posting_id,fold");
    expect(lines).toHaveLength(31);
    const want = groupKFold(Array.from({ length: 30 }, (_, i) => 100 + Math.floor(i / 3)), { k: 4 }).assignment;
    expect(lines.slice(1).map((l) => Number(l.split(",")[1]))).toEqual(Array.from(want));
    expect(JSON.parse(readFileSync(`${out}.json`, "utf8"))).toMatchObject({ scheme: "group", k: 4, seed: 0, group: "label_group" });
  });

  it("supports every scheme with seeds and columns", async () => {
    for (const scheme of ["kfold", "stratified", "stratified-group", "unseen"]) {
      const out = path.join(dir, `${scheme}.csv`);
      expect(await command.run(["--csv", csv, "--scheme", scheme, "--k", "3", "--seed", "7", "--label", "locale", "--shuffle", "--out", out])).toBe(0);
      expect(JSON.parse(readFileSync(`${out}.json`, "utf8"))).toMatchObject({ scheme, k: 3, seed: 7, shuffle: true });
    }
  });

  it("rejects unknown schemes, flags and columns, writing nothing", async () => {
    const out = path.join(dir, "bad.csv");
    await expect(command.run(["--csv", csv, "--scheme", "random", "--out", out])).rejects.toThrow(/unknown fold scheme: random \(expected kfold\|/);
    await expect(command.run(["--csv", csv, "--shufle", "--out", out])).rejects.toThrow(/known options: --csv/);
    await expect(command.run(["--csv", csv, "--scheme", "group", "--group", "shop", "--out", out])).rejects.toThrow(/no column shop \(--group\); columns are posting_id, title, label_group, locale/);
    await expect(command.run(["--scheme", "group", "--out", out])).rejects.toThrow(/--csv is required/);
    expect(existsSync(out)).toBe(false);
  });
});

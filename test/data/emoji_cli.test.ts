import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "../cli/run_cli";

const tmp = mkdtempSync(path.join(os.tmpdir(), "emoji-cli-test-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("matchlab data", () => {
  it("builds a small dataset, then reports it up to date", async () => {
    const out = path.join(tmp, "ds");
    const args = ["data", "--sample", "--out", out, "--groups", "6", "--size", "24", "--locales", "en,de", "--sets", "twemoji,noto", "--seed", "3"];
    const first = await runCli(args);
    expect(first.err).toBe("");
    expect(first.code).toBe(0);
    expect(first.out).toMatch(/wrote .*ds: \d+ rows, 6 label groups/);
    const header = readFileSync(path.join(out, "train.csv"), "utf8").split("\n")[0];
    expect(header).toBe("posting_id,image,image_phash,title,label_group,hexcode,emoji,art_set,license,locale,group,subgroup,tags,label");
    const second = await runCli(args);
    expect(second.code).toBe(0);
    expect(second.out).toMatch(/up to date/);
  });

  it("rejects bad flags, locales and art sets with the valid choices, writing nothing", async () => {
    const out = path.join(tmp, "never");
    const bad = [
      [["--colour", "red"], /Unknown option '--colour'[\s\S]*known options: --sample, --out/],
      [["--locales", "en,klingon"], /unknown locale: klingon \(expected some of bn,da,de,en/],
      [["--sets", "noto,wingdings"], /unknown art set: wingdings \(expected some of noto,twemoji/],
      [["--size", "big"], /--size must be an integer, got big/],
      [["--background", "black"], /--background must be white or transparent/],
      [["--seed=-1"], /--seed must be a non-negative integer/],
      [["stray"], /unexpected argument: stray/],
    ] as const;
    for (const [argv, msg] of bad) {
      const r = await runCli(["data", "--out", out, ...argv]);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(msg);
    }
    expect(existsSync(out)).toBe(false);
  });
});

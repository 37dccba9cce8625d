// Our unshuffled splitters against scikit-learn's (Debian python3-sklearn at /usr/bin/python3) on
// random cases generated here, not tuned on. Skips with a message when sklearn is absent.
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { groupKFold, kFold, stratifiedGroupKFold, stratifiedKFold } from "../../src/folds/index";
import { argsortNumpy, type LabelValue } from "../../src/folds/numpy_compat";
import { Rng } from "../../src/rng";

const PY = "/usr/bin/python3";
const probe = spawnSync(PY, ["-c", "import sklearn, numpy; print(sklearn.__version__, numpy.__version__)"], { encoding: "utf8" });
const sklearnVersion = probe.status === 0 ? probe.stdout.trim() : null;
if (!sklearnVersion) console.warn(`skipping sklearn comparison: ${PY} with scikit-learn not found (apt-get install python3-sklearn)`);

const SCRIPT = `
import json, sys, warnings
import numpy as np
from sklearn.model_selection import KFold, StratifiedKFold, GroupKFold, StratifiedGroupKFold
warnings.simplefilter("ignore")
out = []
for c in json.load(sys.stdin):
    n = len(c["y"]); X = np.zeros((n, 1)); y = np.array(c["y"]); g = np.array(c["g"])
    a = np.full(n, -1)
    cv = {"kfold": KFold(c["k"]), "stratified": StratifiedKFold(c["k"]), "group": GroupKFold(c["k"]),
          "stratified-group": StratifiedGroupKFold(c["k"])}[c["scheme"]]
    for f, (tr, va) in enumerate(cv.split(X, y, g)):
        a[va] = f
    out.append(a.tolist())
print(json.dumps(out))
`;

interface Case {
  scheme: "kfold" | "stratified" | "group" | "stratified-group";
  k: number;
  y: LabelValue[];
  g: LabelValue[];
}

/** Shopee-like group sizes: mostly 2–3, a long tail of bigger groups, some singletons. */
function makeCase(r: Rng, scheme: Case["scheme"], strings: boolean): Case {
  const k = 2 + r.int(6);
  const big = (scheme === "group" || scheme === "kfold") && r.bool(0.4);
  const nGroups = k + r.int(big ? 300 : 50);
  const nClasses = 2 + r.int(r.bool(0.5) ? 12 : 4);
  const y: LabelValue[] = [];
  const g: LabelValue[] = [];
  for (let gi = 0; gi < nGroups; gi++) {
    const u = r.next();
    const size = u < 0.1 ? 1 : u < 0.7 ? 2 + r.int(2) : 4 + r.int(u > 0.97 ? 40 : 8);
    const gid = strings ? `grp_${(r.int(1e6) * 7919 + gi).toString(36)}` : r.int(1e9);
    const cls = r.int(nClasses);
    for (let j = 0; j < size; j++) {
      g.push(gid);
      // mostly one class per group, sometimes mixed
      y.push(r.bool(0.8) ? cls : r.int(nClasses));
    }
  }
  // shuffle rows so groups are interleaved
  const perm = r.permutation(y.length);
  return { scheme, k, y: Array.from(perm, (i) => y[i]!), g: Array.from(perm, (i) => g[i]!) };
}

function ours(c: Case): number[] {
  switch (c.scheme) {
    case "kfold":
      return Array.from(kFold(c.y.length, { k: c.k }).assignment);
    case "stratified":
      return Array.from(stratifiedKFold(c.y, { k: c.k }).assignment);
    case "group":
      return Array.from(groupKFold(c.g, { k: c.k }).assignment);
    case "stratified-group":
      return Array.from(stratifiedGroupKFold(c.y, c.g, { k: c.k }).assignment);
  }
}

describe.skipIf(!sklearnVersion)(`fold splitters match scikit-learn ${sklearnVersion ?? "(absent)"} exactly`, () => {
  const r = new Rng(20261121);
  const cases: Case[] = [];
  for (const scheme of ["kfold", "stratified", "group", "stratified-group"] as const) {
    for (let t = 0; t < 10; t++) cases.push(makeCase(r, scheme, t % 2 === 1));
  }
  // stratification must be possible: at least one class with >= k members
  const usable = cases.filter((c) => c.scheme === "kfold" || c.scheme === "group" || (() => {
    const cnt = new Map<LabelValue, number>();
    for (const v of c.y) cnt.set(v, (cnt.get(v) ?? 0) + 1);
    return [...cnt.values()].some((n) => n >= c.k);
  })());

  it(`gives the same fold for every row on ${usable.length} random cases`, () => {
    const py = spawnSync(PY, ["-c", SCRIPT], { input: JSON.stringify(usable), encoding: "utf8", maxBuffer: 256 << 20 });
    expect(py.status, py.stderr).toBe(0);
    const theirs = JSON.parse(py.stdout) as number[][];
    const mismatches: string[] = [];
    usable.forEach((c, i) => {
      const a = ours(c);
      const diff = a.findIndex((f, j) => f !== theirs[i]![j]);
      if (diff >= 0) mismatches.push(`case ${i} ${c.scheme} k=${c.k} n=${c.y.length}: row ${diff} ours ${a[diff]} sklearn ${theirs[i]![diff]}`);
    });
    expect(mismatches).toEqual([]);
  });

  it("argsortNumpy equals np.argsort (numpy's introsort tie order) on ties, runs and sorted input", () => {
    const r2 = new Rng(77);
    const arrays: number[][] = [];
    for (let t = 0; t < 24; t++) {
      const n = [1, 2, 16, 17, 18, 40, 300, 3000][t % 8]!;
      const kind = Math.floor(t / 8);
      arrays.push(Array.from({ length: n }, (_, i) => (kind === 0 ? 1 + r2.int(3) : kind === 1 ? n - i : i % 7)));
    }
    const py = spawnSync(PY, ["-c", "import json,sys,numpy as np; print(json.dumps([np.argsort(np.array(a, dtype=np.int64)).tolist() for a in json.load(sys.stdin)]))"], { input: JSON.stringify(arrays), encoding: "utf8" });
    expect(py.status, py.stderr).toBe(0);
    const theirs = JSON.parse(py.stdout) as number[][];
    arrays.forEach((a, i) => {
      expect(Array.from(argsortNumpy(a)), `array ${i} (n=${a.length})`).toEqual(theirs[i]);
    });
  });
});

/**
 * Bad environment variables and flag values through the real CLI: one line naming the variable or
 * flag and the allowed values, exit status 1, never a stack trace (MATCHLAB_DEBUG=1 adds one).
 */
import { describe, expect, it } from "vitest";
import { checkEnv, EnvError, lazyEnvFromProcess } from "../../src/env";
import { matchlabCli } from "./spawn_cli";

describe("MATCHLAB_* variables", () => {
  it("a bad value is read lazily: loading the settings never throws, reading the field throws EnvError, assigning it fixes it", () => {
    const e = lazyEnvFromProcess({ MATCHLAB_BACKEND: "foo", MATCHLAB_SEED: "7" });
    expect(e.seed).toBe(7);
    expect(() => e.backend).toThrow(EnvError);
    expect(() => e.backend).toThrow('environment variable MATCHLAB_BACKEND="foo" is not valid (expected auto|tensorflow|wasm|cpu)');
    e.backend = "cpu";
    expect(e.backend).toBe("cpu");
    expect(lazyEnvFromProcess({}).backend).toBe("auto");
    expect(() => lazyEnvFromProcess({ MATCHLAB_SEED: "1.5" }).seed).toThrow(/MATCHLAB_SEED="1.5" is not valid \(expected a non-negative integer\)/);
  });

  it("checkEnv names the first bad variable; empty values count as unset", () => {
    expect(() => checkEnv({ MATCHLAB_WASM_THREADS: "99" })).toThrow(/MATCHLAB_WASM_THREADS="99" is not valid \(expected an integer in 1..8\)/);
    expect(() => checkEnv({ MATCHLAB_WASM_SIMD: "fast" })).toThrow(/expected auto\|plain\|off/);
    expect(() => checkEnv({ MATCHLAB_SLURM_POLL_S: "0" })).toThrow(/expected a number of seconds > 0/);
    expect(() => checkEnv({ MATCHLAB_BACKEND: "", MATCHLAB_SEED: "", MATCHLAB_WASM_SIMD: "OFF", MATCHLAB_WASM_THREADS: "4", MATCHLAB_QUIET: "anything" })).not.toThrow();
  });

  const CASES: [string, Record<string, string>, RegExp][] = [
    ["runs", { MATCHLAB_BACKEND: "foo" }, /^matchlab runs: environment variable MATCHLAB_BACKEND="foo" is not valid \(expected auto\|tensorflow\|wasm\|cpu\)$/],
    ["folds", { MATCHLAB_SEED: "-1" }, /^matchlab folds: environment variable MATCHLAB_SEED="-1" is not valid \(expected a non-negative integer\)$/],
    ["train", { MATCHLAB_WASM_THREADS: "zero" }, /^matchlab train: environment variable MATCHLAB_WASM_THREADS="zero" is not valid \(expected an integer in 1\.\.8\)$/],
  ];
  it.each(CASES)("matchlab %s with %o: one line, exit 1, no stack", async (cmd, vars, line) => {
    const r = await matchlabCli([cmd], vars);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(line);
    expect(r.stderr).not.toMatch(/^\s+at /m);
  }, 60_000);

  it("MATCHLAB_DEBUG=1 adds the stack", async () => {
    const r = await matchlabCli(["runs"], { MATCHLAB_BACKEND: "foo", MATCHLAB_DEBUG: "1" });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^matchlab runs: environment variable MATCHLAB_BACKEND="foo"/);
    expect(r.stderr).toMatch(/^\s+at /m);
  }, 60_000);
});

describe("bad flag values", () => {
  const CASES: [string[], RegExp][] = [
    [["train", "--lr", "abc"], /^matchlab train: --lr: bad value for optim\.lr: "abc" \(expected a number >= 0\)$/],
    [["train", "--backend", "foo"], /^matchlab train: --backend: bad value for backend: "foo" \(expected one of auto\|tensorflow\|wasm\|cpu\)$/],
    [["train", "--epochs", "0"], /^matchlab train: --epochs: bad value for optim\.epochs: 0 \(expected an integer >= 1\)$/],
    [["cv", "--config", "configs/quick.yaml", "--parallel", ""], /^matchlab cv: --parallel must be an integer, got ""$/],
    [["cv", "--config", "configs/quick.yaml", "--parallel", "2x"], /^matchlab cv: --parallel must be an integer, got 2x$/],
  ];
  it.each(CASES)("matchlab %j: one line naming the flag and what is expected", async (argv, line) => {
    const r = await matchlabCli(argv);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(line);
    expect(r.stderr).not.toMatch(/^\s+at /m);
  }, 60_000);
});

/**
 * `--slurm` where there is no Slurm: one clear line and exit 1, nothing written; `--dry-run` prints
 * the batch script without Slurm and writes nothing; `--status` of an unknown job says where it looked.
 */
import { existsSync, mkdtempSync, readdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { matchlabCli } from "./spawn_cli";

describe("matchlab cv/study --slurm without Slurm", () => {
  const runs = mkdtempSync(path.join(os.tmpdir(), "ml-noslurm-"));
  const noSlurm = { PATH: "/nonexistent", MATCHLAB_RUNS_DIR: runs };

  it("cv --slurm stops with one line naming the missing sbatch", async () => {
    const r = await matchlabCli(["cv", "--config", "configs/quick.yaml", "--slurm"], noSlurm);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split("\n")).toEqual(["matchlab cv: --slurm: no Slurm here: sbatch is not on the PATH (is this a Slurm login node?); run without --slurm to train the folds on this machine"]);
    expect(readdirSync(runs)).toEqual([]);
  });

  it("study --slurm likewise", async () => {
    const r = await matchlabCli(["study", "--config", "configs/study.yaml", "--slurm"], noSlurm);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain("matchlab study: --slurm: no Slurm here: sbatch is not on the PATH");
  });

  it("--dry-run prints the script and writes nothing", async () => {
    const r = await matchlabCli(["cv", "--config", "configs/quick.yaml", "--folds", "3", "--all", "--slurm", "--dry-run", "--id", "dry", "--array-limit", "2", "--gres", "gpu:1"], noSlurm);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^#!\/bin\/bash\n#SBATCH --job-name=dry\n#SBATCH --array=0-3%2\n/);
    expect(r.stdout).toContain("#SBATCH --gres=gpu:1");
    expect(r.stdout).toContain(`  3) RUN=dry-all; ARGS=(--config ${path.join(runs, "dry", "slurm", "config.yaml")} --fold all --run dry-all`);
    expect(existsSync(path.join(runs, "dry"))).toBe(false);
  });

  it("refuses --parallel with --slurm, and --dry-run alone", async () => {
    const a = await matchlabCli(["cv", "--config", "configs/quick.yaml", "--slurm", "--dry-run", "--parallel", "2"], noSlurm);
    expect(a.stderr).toContain("--parallel is for local cv; with --slurm use --array-limit");
    const b = await matchlabCli(["cv", "--config", "configs/quick.yaml", "--dry-run"], noSlurm);
    expect(b.stderr).toContain("--dry-run goes with --slurm");
  });

  it("--status of an unknown job says where it looked", async () => {
    const r = await matchlabCli(["cv", "--status", "424242"], noSlurm);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`--status 424242: no Slurm submission with that job id or cv id under ${runs}`);
  });
});

/**
 * `npm run lab` (scripts/lab.mjs): Jupyter on 127.0.0.1 with token auth; as root it adds
 * --allow-root and says so. The argument list is checked directly, and, where this machine runs as
 * root with Jupyter installed (containers), the server is started briefly and must print its
 * 127.0.0.1 URL with a token.
 */
import { spawn } from "node:child_process";
import net from "node:net";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(__dirname, "../..");
type LabArgs = (o?: { uid?: number; extra?: string[] }) => { args: string[]; notes: string[] };
const jupyter = (await import(pathToFileURL(path.join(ROOT, "scripts", "jupyter.mjs")).href)) as { labArgs: LabArgs; findJupyter: () => string | null };

describe("npm run lab's arguments", () => {
  it("as root: --allow-root added and said; still 127.0.0.1, token auth untouched", () => {
    const { args, notes } = jupyter.labArgs({ uid: 0, extra: ["--port=9999"] });
    expect(args).toEqual(["notebook", "--ip=127.0.0.1", "--no-browser", `--notebook-dir=${path.join(ROOT, "notebooks")}`, "--allow-root", "--port=9999"]);
    expect(notes).toEqual(["running as root: adding --allow-root (still on 127.0.0.1 with token auth)"]);
    expect(args.join(" ")).not.toMatch(/token|password/i);
  });

  it("as another user: no --allow-root, no note; a given --allow-root is not doubled", () => {
    expect(jupyter.labArgs({ uid: 1000 })).toEqual({ args: ["notebook", "--ip=127.0.0.1", "--no-browser", `--notebook-dir=${path.join(ROOT, "notebooks")}`], notes: [] });
    expect(jupyter.labArgs({ uid: 0, extra: ["--allow-root"] }).args.filter((a) => a === "--allow-root")).toHaveLength(1);
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

const asRoot = typeof process.getuid === "function" && process.getuid() === 0 && jupyter.findJupyter() !== null;

describe("npm run lab as root", () => {
  it.runIf(asRoot)("starts and serves on 127.0.0.1 with a token", async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [path.join(ROOT, "scripts", "lab.mjs"), `--port=${port}`], { cwd: ROOT, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    try {
      await new Promise<void>((resolve, reject) => {
        const seen = (d: Buffer) => {
          out += d;
          if (new RegExp(`http://127\\.0\\.0\\.1:${port}/\\?token=[0-9a-f]{16,}`).test(out)) resolve();
        };
        child.stdout.on("data", seen);
        child.stderr.on("data", seen);
        child.on("exit", (code) => reject(new Error(`lab exited ${code} before serving:\n${out}`)));
      });
    } finally {
      process.kill(-child.pid!, "SIGKILL"); // the lab script and its Jupyter child (its own process group; Jupyter may miss a SIGTERM sent before its loop runs)
    }
    expect(out).toContain("running as root: adding --allow-root");
    expect(out).not.toContain("Running as root is not recommended");
  }, 120_000);
});

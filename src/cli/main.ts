/**
 * `matchlab <command> [options]`: each command is a thin shell over the library,
 * loaded on demand so that `matchlab --help` stays fast.
 */
import { checkEnv } from "../env";
import type { Command } from "./common";

type Loader = () => Promise<{ command: Command }>;

/** The command table: name → lazy module. */
export const COMMANDS: Readonly<Record<string, Loader>> = Object.freeze({
  folds: () => import("./folds"),
  data: () => import("./data"),
  embed: () => import("./embed"),
  train: () => import("./train"),
  cv: () => import("./cv"),
  runs: () => import("./runs"),
  "validate-pending": () => import("./validate_pending"),
  study: () => import("./study"),
  match: () => import("./match"),
  holdout: () => import("./holdout"),
  predict: () => import("./predict"),
  score: () => import("./score"),
});

function usage(): string {
  return `usage: matchlab <command> [options]\n\ncommands: ${Object.keys(COMMANDS).join(", ")}\nrun 'matchlab <command> --help' for a command's options`;
}

/** Runs the CLI with `argv` (without the node and script paths). */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h") {
    console.log(usage());
    return name ? 0 : 2;
  }
  const load = COMMANDS[name];
  if (!load) {
    console.error(`matchlab: unknown command '${name}' (expected ${Object.keys(COMMANDS).join("|")})`);
    return 2;
  }
  try {
    checkEnv();
    const { command } = await load();
    return await command.run(rest);
  } catch (err) {
    console.error(`matchlab ${name}: ${err instanceof Error ? err.message : String(err)}`);
    if (process.env.MATCHLAB_DEBUG && err instanceof Error) console.error(err.stack);
    return 1;
  }
}

if (process.argv[1] && /[\\/]cli[\\/]main\.ts$/.test(process.argv[1])) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}

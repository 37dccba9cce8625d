// A child process for the fault tests: one real matchlab write, chosen by argv. Run with
// MATCHLAB_TEST_PAUSE_WRITE set, it stops between writing the temp file and renaming it (see
// src/fs_atomic.ts), and the test SIGKILLs it there.
//   node writer_child.mjs checkpoint <file> <value>
//   node writer_child.mjs submission <file> <tag>
//   node writer_child.mjs cache <cacheDir> <value>
import { register } from "tsx/esm/api";

register();
const [mode, target, arg] = process.argv.slice(2);
const writers = await import("./writers.ts");
await writers.write(mode, target, Number(arg));

/** `matchlab data`: builds the emoji-match dataset (or its sample) from the npm packages. */
import path from "node:path";
// Imports the data module directly (not ../index) so the command starts fast and loads no tfjs.
import { buildEmojiMatch, EMOJI_ART_SETS, type EmojiBackground, emojiLocales } from "../data/emoji/index";
import { env } from "../env";
import { formatDuration } from "../progress";
import { type Command, type FlagSpec, intFlag, parseFlags, stringFlag, UsageError } from "./common";

const SUMMARY = "build the emoji-match dataset (Shopee-style train.csv + train_images/) from the emoji npm packages";

const FLAGS: Record<string, FlagSpec> = {
  sample: { type: "boolean", help: "build the small sample (300 label groups, whole skin-tone families)" },
  out: { type: "string", help: "dataset folder to write", default: "data/emoji-match" },
  seed: { type: "string", help: "seed for every random choice", default: String(env.seed) },
  size: { type: "string", help: "image side in pixels", default: "128" },
  groups: { type: "string", help: "most label groups (default: 300 with --sample, else all)" },
  locales: { type: "string", help: "comma-separated title locales (default: all emojibase-data locales)" },
  sets: { type: "string", help: `comma-separated art sets (default: ${EMOJI_ART_SETS.join(",")})` },
  background: { type: "string", help: "white (RGB PNGs) or transparent (RGBA PNGs)", default: "white" },
  concurrency: { type: "string", help: "images rasterised at once (default: CPU count)" },
  force: { type: "boolean", help: "replace an existing emoji-match build made with other options" },
};

function listFlag(v: string | undefined): string[] | undefined {
  if (typeof v !== "string") return undefined;
  const items = v
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  return items.length ? items : undefined;
}

/** The `data` command. */
export const command: Command = {
  summary: SUMMARY,
  async run(argv) {
    const p = parseFlags("data", SUMMARY, FLAGS, argv);
    if (!p) return 0;
    if (p.positionals.length) throw new UsageError(`unexpected argument: ${p.positionals[0]} (matchlab data takes only options; see --help)`);
    const background = String(p.values.background);
    if (background !== "white" && background !== "transparent") throw new UsageError(`--background must be white or transparent, got ${background}`);
    const seed = intFlag(p, "seed", env.seed);
    if (seed < 0) throw new UsageError(`--seed must be a non-negative integer, got ${seed}`);
    const groups = p.values.groups === undefined ? undefined : intFlag(p, "groups", 0);
    const concurrency = p.values.concurrency === undefined ? undefined : intFlag(p, "concurrency", 1);
    const outFlag = p.values.out === FLAGS.out!.default ? path.join(env.dataDir, "emoji-match") : String(p.values.out);
    const locales = listFlag(stringFlag(p, "locales"));
    if (p.values.locales !== undefined && !locales) throw new UsageError(`--locales is empty (expected some of ${emojiLocales().join(",")})`);
    const sets = listFlag(stringFlag(p, "sets"));
    if (sets) {
      const bad = sets.filter((s) => !EMOJI_ART_SETS.includes(s));
      if (bad.length) throw new UsageError(`unknown art set: ${bad.join(", ")} (expected some of ${EMOJI_ART_SETS.join(",")})`);
    }

    const controller = new AbortController();
    const onSignal = () => {
      console.error("\nmatchlab data: interrupted, removing the partial build…");
      controller.abort();
    };
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    try {
      const res = await buildEmojiMatch({
        out: path.resolve(outFlag),
        sample: !!p.values.sample,
        seed,
        size: intFlag(p, "size", 128),
        groups,
        locales,
        sets,
        background: background as EmojiBackground,
        concurrency,
        force: !!p.values.force,
        signal: controller.signal,
      });
      const c = res.manifest.counts;
      const rel = path.relative(process.cwd(), res.out);
      const shown = rel === "" ? "." : rel.startsWith("..") ? res.out : rel;
      if (res.upToDate) {
        console.log(`${shown} is up to date (same options: seed ${res.manifest.options.seed}${res.manifest.options.sample ? ", sample" : ""}); pass --force to rebuild`);
      } else {
        console.log(
          `wrote ${shown}: ${c.rows} rows, ${c.groups} label groups (sizes ${c.groupSize.min}–${c.groupSize.max}, mean ${c.groupSize.mean}), ${c.images} images in ${formatDuration(res.ms)}`,
        );
      }
      return controller.signal.aborted ? 130 : 0;
    } catch (err) {
      if (controller.signal.aborted) {
        console.error(`matchlab data: interrupted; ${outFlag} was left as it was`);
        return 130;
      }
      throw err;
    } finally {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    }
  },
};

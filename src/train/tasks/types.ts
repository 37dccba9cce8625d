/**
 * What a task is: a row of the task table. A task contributes only what differs between tasks:
 * its config section, which rows train and validate and what class each row is (`split`), how
 * validation is scored (`validate`), and its primary metric. Everything else (inputs, model,
 * heads, losses, the loop, checkpoints, the registry, cv, study) is shared.
 */
import type { Listing } from "../../data/dataset";
import type { FoldSplit } from "../../folds/types";
import type { Section } from "../../config";
import type { RunConfig } from "../config";
import type { RunModel } from "../model";

/** The rows of a fold and the class of every row. */
export interface TaskSplit {
  /** Training rows. */
  train: Int32Array;
  /** Validation rows. */
  valid: Int32Array;
  /** The task's label per row over every row (match: label_group index; classify: class code). */
  labels: Int32Array;
  /** Head class per row (the index the heads learn); -1 for rows whose class the heads never see. */
  classOf: Int32Array;
  /** Classes the heads learn. */
  numClasses: number;
  /** Name of each head class. */
  classNames: string[];
}

/** A task's primary metric: the validation metric best checkpoints, early stopping, cv and study rank by. */
export interface PrimaryMetric {
  /** A key of `validate()`'s result (e.g. val_f1). */
  name: string;
  /** Whether bigger is better. */
  mode: "max" | "min";
}

/** A row of the task table. */
export interface TaskDef {
  /** The task's name (the config's `task`). */
  name: string;
  /** One line for docs and `--help`. */
  summary: string;
  /** The task's own config section (under its name). */
  section: Section;
  /** The primary metric. */
  metric: PrimaryMetric;
  /** The validation columns of metrics.csv, in order (after the shared epoch/step/train_* columns). */
  columns: readonly string[];
  /** The metrics a study summarises (mean ± std per arm), primary first. */
  studyMetrics: readonly string[];
  /** Whether runs write their validation rows' embeddings per branch (oof/<branch>.f32) for ensembles and predict. */
  embeds: boolean;
  /** Splits the listings into the fold's rows and assigns classes. Pure. */
  split(listings: readonly Listing[], cfg: RunConfig): TaskSplit;
  /** Scores the model on the validation rows. Must not change training state. */
  validate(model: RunModel, split: TaskSplit, cfg: RunConfig): Promise<Record<string, number>>;
}

/**
 * The rows of the config's fold (`data.fold`) of a split: its train and validation rows, or, for
 * `all`, every row for training and none for validation.
 */
export function foldRows(split: FoldSplit, cfg: RunConfig, n: number): { train: Int32Array; valid: Int32Array } {
  if (cfg.data.fold === "all") return { train: Int32Array.from({ length: n }, (_, i) => i), valid: new Int32Array(0) };
  const fold = split.folds[cfg.data.fold];
  if (!fold) throw new Error(`data.fold ${cfg.data.fold} does not exist (data.folds ${cfg.data.folds})`);
  return fold;
}

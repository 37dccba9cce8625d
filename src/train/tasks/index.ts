/**
 * The task table: one frozen row per task, the way transformers.js maps task names to pipelines.
 * A task contributes its config section, its split, its validation and its primary metric; the
 * driver (src/train/run.ts) and everything around it are shared.
 */
import type { Section } from "../../config";
import { classifyTask } from "./classify";
import { matchTask } from "./match";
import type { TaskDef } from "./types";

export type { PrimaryMetric, TaskDef, TaskSplit } from "./types";

/** The tasks by name. */
export const TASKS = Object.freeze({ match: matchTask, classify: classifyTask });
/** A task name. */
export type TaskName = keyof typeof TASKS;
/** The task names, from the table. */
export const TASK_NAMES: readonly TaskName[] = Object.freeze(Object.keys(TASKS) as TaskName[]);
/** Each task's config section, under the task's name. */
export const TASK_SECTIONS: Readonly<Record<TaskName, Section>> = Object.freeze(Object.fromEntries(TASK_NAMES.map((t) => [t, TASKS[t].section])) as Record<TaskName, Section>);

/**
 * The task of a name; an unknown name throws listing the valid ones.
 * @example taskDef("classify").metric.name // "val_macro_f1"
 */
export function taskDef(name: string): TaskDef {
  if (!Object.hasOwn(TASKS, name)) throw new Error(`unknown task: ${name} (expected ${TASK_NAMES.join("|")})`);
  return TASKS[name as TaskName];
}

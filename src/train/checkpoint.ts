/**
 * Checkpoints: one record holding the model state, the optimiser state, the position (epoch,
 * batch, step), the seed, the config, the metrics and the callbacks' state. One binary file
 * (magic, JSON header, raw little-endian tensor bytes), written atomically: temporary file,
 * fsync, rename. `weightsSha256` hashes the model state in a fixed order so runs compare exactly.
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { writeFileAtomic } from "../fs_atomic";
import type { Callback, Learner, LearnerPosition } from "./learner";
import { Tracker } from "./callbacks";
import type { NamedParam } from "./optimizer";

const MAGIC = "MLCKPT01";
/** The part of {@link MAGIC} every matchlab checkpoint starts with; the two digits after it are the format version. */
const MAGIC_STEM = "MLCKPT";

/** Thrown for a checkpoint that cannot be read or does not fit the model: the message names the file and what was expected. */
export class CheckpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CheckpointError";
  }
}

/** One tensor in a checkpoint file. */
export interface CheckpointTensor {
  name: string;
  shape: number[];
  dtype: "float32" | "int32";
  data: Float32Array | Int32Array;
}

/** The JSON part of a checkpoint. */
export interface CheckpointMeta {
  position: LearnerPosition;
  seed: number;
  /** The resolved run config. */
  config: unknown;
  /** The last validation metrics. */
  metrics: Record<string, number>;
  /** Callback states by callback name. */
  callbacks: Record<string, unknown>;
  /** Optimiser step count. */
  optimizerT: number;
  /** SHA-256 of the model state (see {@link weightsSha256}). */
  weightsSha256: string;
  /** Anything else worth keeping (free-form). */
  extra?: Record<string, unknown>;
}

/** A whole checkpoint. */
export interface CheckpointRecord {
  meta: CheckpointMeta;
  tensors: CheckpointTensor[];
}

/** SHA-256 over the variables' names, shapes and float32 bytes, in the given (fixed) order. */
export function weightsSha256(vars: readonly NamedParam[]): string {
  const h = createHash("sha256");
  for (const v of vars) {
    h.update(`${v.name}:${v.variable.shape.join("x")}:${v.variable.dtype};`);
    const d = v.variable.dataSync();
    h.update(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
  }
  return h.digest("hex");
}

/** Saves a checkpoint record atomically; refuses (naming the tensor) a record whose weights hold NaN or ±Inf. */
export function saveCheckpoint(file: string, record: CheckpointRecord): void {
  for (const t of record.tensors) {
    if (t.dtype !== "float32" || !t.name.startsWith("w/")) continue;
    for (let i = 0; i < t.data.length; i++) if (!Number.isFinite(t.data[i]!)) throw new Error(`${file}: not written: weights ${t.name.slice(2)} hold ${t.data[i]} at index ${i} (a diverged model; the previous checkpoint is kept)`);
  }
  const entries = record.tensors.map((t) => ({ name: t.name, shape: t.shape, dtype: t.dtype, bytes: t.data.byteLength }));
  const header = new TextEncoder().encode(JSON.stringify({ meta: record.meta, tensors: entries }));
  const len = new Uint8Array(4);
  new DataView(len.buffer).setUint32(0, header.byteLength, true);
  const pad = new Uint8Array((4 - ((MAGIC.length + 4 + header.byteLength) % 4)) % 4);
  const chunks: Uint8Array[] = [new TextEncoder().encode(MAGIC), len, header, pad];
  for (const t of record.tensors) chunks.push(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  writeFileAtomic(file, chunks);
}

/** Loads a checkpoint file, checking its magic, version and sizes; a bad file throws a {@link CheckpointError}. */
export function loadCheckpoint(file: string): CheckpointRecord {
  if (!existsSync(file)) throw new CheckpointError(`checkpoint not found: ${file} (expected a .ckpt file under runs/<id>/checkpoints/)`);
  const buf = readFileSync(file);
  const magic = buf.subarray(0, MAGIC.length).toString("latin1");
  if (magic !== MAGIC) {
    if (magic.startsWith(MAGIC_STEM) && buf.byteLength >= MAGIC.length) throw new CheckpointError(`${file}: checkpoint format version ${magic.slice(MAGIC_STEM.length)}, expected ${MAGIC.slice(MAGIC_STEM.length)} (written by another matchlab version; retrain or use that version)`);
    throw new CheckpointError(`${file}: not a matchlab checkpoint (bad magic; expected a file starting with ${MAGIC})`);
  }
  const start = MAGIC.length + 4;
  if (buf.byteLength < start) throw new CheckpointError(`${file}: truncated in the header (${buf.byteLength} bytes; expected at least ${start})`);
  const hlen = buf.readUInt32LE(MAGIC.length);
  if (start + hlen > buf.byteLength) throw new CheckpointError(`${file}: truncated in the header (${buf.byteLength} bytes; the header alone needs ${start + hlen})`);
  let parsed: { meta: CheckpointMeta; tensors: Array<Omit<CheckpointTensor, "data"> & { bytes: number }> };
  try {
    parsed = JSON.parse(buf.subarray(start, start + hlen).toString("utf8"));
  } catch (e) {
    throw new CheckpointError(`${file}: corrupt header (${e instanceof Error ? e.message : String(e)}; expected JSON {meta, tensors})`);
  }
  if (!parsed || typeof parsed !== "object" || !Array.isArray(parsed.tensors) || !parsed.meta) throw new CheckpointError(`${file}: corrupt header (expected JSON {meta, tensors})`);
  let off = start + hlen;
  off += (4 - (off % 4)) % 4;
  const need = parsed.tensors.reduce((s, t) => s + t.bytes, off);
  const tensors: CheckpointTensor[] = parsed.tensors.map((e) => {
    if (off + e.bytes > buf.byteLength) throw new CheckpointError(`${file}: truncated at tensor ${e.name} (${buf.byteLength} bytes, expected ${need}; an interrupted copy? use an earlier checkpoint)`);
    const copy = new ArrayBuffer(e.bytes);
    new Uint8Array(copy).set(buf.subarray(off, off + e.bytes));
    off += e.bytes;
    return { name: e.name, shape: e.shape, dtype: e.dtype, data: e.dtype === "int32" ? new Int32Array(copy) : new Float32Array(copy) };
  });
  return { meta: parsed.meta, tensors };
}

function tensorEntry(name: string, t: tf.Tensor): CheckpointTensor {
  const dtype = t.dtype === "int32" ? "int32" : "float32";
  const data = t.dataSync();
  return { name, shape: t.shape.slice(), dtype, data: dtype === "int32" ? Int32Array.from(data) : Float32Array.from(data) };
}

/** Builds the checkpoint record of a learner now. */
export function learnerCheckpoint(l: Learner, config: unknown, extra?: Record<string, unknown>): CheckpointRecord {
  const vars = l.stateVariables();
  const tensors: CheckpointTensor[] = vars.map((v) => tensorEntry(`w/${v.name}`, v.variable));
  const st = l.optimizer.getState();
  for (const p of l.optimizer.params) {
    tensors.push(tensorEntry(`m/${p.name}`, st.m[p.name]!), tensorEntry(`v/${p.name}`, st.v[p.name]!));
  }
  tf.dispose([...Object.values(st.m), ...Object.values(st.v)]);
  const callbacks: Record<string, unknown> = {};
  for (const cb of l.callbacks) if (cb.name && cb.state) callbacks[cb.name] = cb.state();
  return {
    meta: { position: l.position(), seed: l.seed, config, metrics: l.metrics, callbacks, optimizerT: st.t, weightsSha256: weightsSha256(vars), ...(extra ? { extra } : {}) },
    tensors,
  };
}

/** Copies a checkpoint's tensors into the model variables (by name and shape). Returns the names it set. */
export function restoreWeights(vars: readonly NamedParam[], record: CheckpointRecord, file = "checkpoint"): void {
  const byName = new Map(record.tensors.map((t) => [t.name, t]));
  for (const v of vars) {
    const t = byName.get(`w/${v.name}`);
    if (!t) throw new CheckpointError(`${file}: no weights for ${v.name} (the checkpoint belongs to a different model: expected one written by this config)`);
    if (t.shape.join(",") !== v.variable.shape.join(",")) throw new CheckpointError(`${file}: ${v.name} has shape [${t.shape}], model expects [${v.variable.shape}] (the checkpoint belongs to a different model)`);
    tf.tidy(() => {
      v.variable.assign(tf.tensor(t.data, t.shape, v.variable.dtype));
    });
  }
}

/** Restores a learner (weights, optimiser, position, callback state) from a record. */
export function restoreLearner(l: Learner, record: CheckpointRecord, file = "checkpoint"): void {
  restoreWeights(l.stateVariables(), record, file);
  const byName = new Map(record.tensors.map((t) => [t.name, t]));
  const m: Record<string, tf.Tensor> = {};
  const v: Record<string, tf.Tensor> = {};
  for (const p of l.optimizer.params) {
    const tm = byName.get(`m/${p.name}`);
    const tv = byName.get(`v/${p.name}`);
    if (!tm || !tv) throw new CheckpointError(`${file}: no optimizer state for ${p.name}`);
    m[p.name] = tf.tensor(tm.data, tm.shape);
    v[p.name] = tf.tensor(tv.data, tv.shape);
  }
  l.optimizer.setState({ t: record.meta.optimizerT, m, v });
  tf.dispose([...Object.values(m), ...Object.values(v)]);
  l.setPosition(record.meta.position);
  l.metrics = { ...record.meta.metrics };
  for (const cb of l.callbacks) {
    if (cb.name && cb.loadState && record.meta.callbacks[cb.name] !== undefined) cb.loadState(record.meta.callbacks[cb.name]);
  }
  const got = weightsSha256(l.stateVariables());
  if (got !== record.meta.weightsSha256) throw new CheckpointError(`${file}: weights hash mismatch after restore (${got} vs ${record.meta.weightsSha256})`);
}

/** The checkpoint files of a folder (`step-<n>.ckpt`), oldest step first. */
export function listCheckpoints(dir: string): { file: string; step: number }[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((f) => /^step-(\d+)\.ckpt$/.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ file: path.join(dir, m[0]), step: Number(m[1]) }))
    .sort((a, b) => a.step - b.step);
}

/** The newest periodic checkpoint of a folder, or null. */
export function latestCheckpoint(dir: string): string | null {
  const all = listCheckpoints(dir);
  return all.length ? all[all.length - 1]!.file : null;
}

/** Options for {@link checkpointCallback}. */
export interface CheckpointCallbackOptions {
  /** Folder for `step-<n>.ckpt` and `best.ckpt`. Required. */
  dir: string;
  /** Save every this many optimiser steps (0 = only at epoch ends). Defaults to 0. */
  period?: number;
  /** Periodic checkpoints to keep (oldest deleted). Defaults to 3. */
  keep?: number;
  /** Metric whose best value `best.ckpt` holds. Defaults to "val_f1". */
  monitor?: string;
  /** Defaults to "max". */
  mode?: "max" | "min";
  /** The config stored in each checkpoint. Defaults to null. */
  config?: unknown;
  /** Called after each save (e.g. to log). Defaults to none. */
  onSave?: (file: string, l: Learner) => void;
}

/** Checkpoints every N steps and at every epoch end, keeps the last `keep`, and keeps the best. */
export function checkpointCallback(opts: CheckpointCallbackOptions): Callback & { best: Tracker } {
  const { dir, period = 0, keep = 3, monitor = "val_f1", mode = "max", config = null, onSave } = opts;
  const best = new Tracker(mode);
  const save = (l: Learner, name: string) => {
    const file = path.join(dir, name);
    l.assertFiniteWeights(); // a diverged model never overwrites the last good checkpoint
    saveCheckpoint(file, learnerCheckpoint(l, config));
    onSave?.(file, l);
    if (name.startsWith("step-")) {
      const all = listCheckpoints(dir);
      for (const c of all.slice(0, Math.max(0, all.length - keep))) rmSync(c.file, { force: true });
    }
  };
  return {
    name: "checkpoint",
    order: 20,
    best,
    afterBatch(l) {
      if (l.stepped && period > 0 && l.step % period === 0 && l.batchInEpoch < l.batchesPerEpoch) save(l, `step-${l.step}.ckpt`);
    },
    afterValidate(l) {
      const v = l.metrics[monitor];
      if (v !== undefined && best.update(v)) save(l, "best.ckpt");
    },
    afterEpoch(l) {
      save(l, `step-${l.step}.ckpt`);
    },
    state: () => ({ best: Number.isFinite(best.best) ? best.best : null, wait: best.wait }),
    loadState(s) {
      const st = s as { best: number | null; wait: number };
      if (st.best !== null) best.best = st.best;
      best.wait = st.wait;
    },
  };
}

/**
 * Ensemble members over a dataset: trained runs or cvs on a branch (their out-of-fold embeddings
 * for tuning, or their models' embeddings of a new dataset for predict), baseline branches computed
 * from the data (16 px pixels, title characters, TF-IDF) and embedding files; each with its top-k
 * neighbour lists (after optional neighbourhood blending), as the pair tables of src/ensemble need.
 */
import type { Dataset } from "../data/dataset";
import type { EnsembleMember } from "../ensemble/pair_table";
import { type MemberSource, memberName } from "../ensemble/spec";
import { alignEmbeddings, readEmbeddingsFile, runEmbeddingsFile } from "../retrieval/embedding_file";
import { baselineFeatures } from "../retrieval/baseline_features";
import { iterativeBlend } from "../retrieval/match_rules";
import { type KnnEngineName, knnSearch } from "../retrieval/knn";
import { sparseDot, sparseKnn, type SparseRows, tfidfVectors } from "../retrieval/tfidf";
import { embedWithMember } from "./predict";

/** A member with what the pair table and within-fold searches need. */
export type BuiltMember = EnsembleMember & { sparse?: SparseRows; source: MemberSource };

/** Options for {@link buildMembers}. */
export interface BuildMembersOptions {
  /** Where runs live. Required. */
  runsDir: string;
  /** `oof`: runs give their out-of-fold embeddings (tuning on the training set); `predict`: runs embed `ds` with their models (a test set). Required. */
  mode: "oof" | "predict";
  /** Neighbours per posting. Defaults to 50. */
  k?: number;
  /** Exact kNN engine. Defaults to "auto". */
  engine?: KnnEngineName | "auto";
  /** Neighbourhood-blending stages on dense members. Defaults to 0. */
  inb?: number;
  /** Row width of .f32 files without a sidecar. Defaults to none. */
  dim?: number;
  /** predict: cv members also average in their model trained on every row. Defaults to false. */
  withAll?: boolean;
}

/**
 * Builds the members for `sources` over the listings of `ds`, in order.
 * @example const ms = await buildMembers(ds, [{ kind: "run", id: "cv-quick-…", branch: "fused" }, { kind: "tfidf" }], { runsDir: "runs", mode: "oof" });
 */
export async function buildMembers(ds: Dataset, sources: readonly MemberSource[], opts: BuildMembersOptions): Promise<BuiltMember[]> {
  const { runsDir, mode, k = 50, engine = "auto", inb = 0, dim, withAll = false } = opts;
  const ids = ds.listings.map((l) => l.postingId);
  const members: BuiltMember[] = [];
  let baseline: Awaited<ReturnType<typeof baselineFeatures>> | null = null;
  const unique = (base: string) => {
    let name = base;
    while (members.some((m) => m.name === name)) name = `${name}'`;
    return name;
  };
  for (const source of sources) {
    let name = unique(memberName(source));
    if (source.kind === "tfidf") {
      const vec = tfidfVectors(ds.listings.map((l) => l.title)).vectors;
      members.push({ name, source, neighbours: sparseKnn(vec, { k }), similarity: (i, j) => sparseDot(vec, i, j), sparse: vec });
      continue;
    }
    let dense: { data: Float32Array; dim: number };
    if (source.kind === "pixels" || source.kind === "chars") {
      baseline ??= await baselineFeatures(ds);
      dense = baseline[source.kind];
    } else if (source.kind === "file") {
      if (mode === "predict") throw new Error(`member ${name}: an embeddings file holds the rows it was written for, not this dataset's; ensembles for predict use runs and baseline branches`);
      const e = readEmbeddingsFile(source.file, dim ? { dim } : {});
      name = unique(e.name); // the sidecar's name, else the file's
      dense = { data: alignEmbeddings(e, ids), dim: e.dim };
    } else if (mode === "oof") {
      const e = readEmbeddingsFile(runEmbeddingsFile(source.id, runsDir, source.branch));
      dense = { data: alignEmbeddings(e, ids), dim: e.dim };
    } else {
      dense = await embedWithMember(runsDir, source.id, ds, source.branch, { withAll });
    }
    let data = dense.data;
    let nb = await knnSearch(data, dense.dim, { k, engine, label: `knn ${name}` });
    if (inb > 0) {
      const r = await iterativeBlend(data, dense.dim, { stages: inb, knn: { k, engine } });
      data = r.embeddings;
      nb = r.neighbours;
    }
    members.push({ name, source, neighbours: nb, embeddings: { data, dim: dense.dim } });
  }
  return members;
}

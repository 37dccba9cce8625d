/**
 * Box-bounded black-box maximisers for tuning weights and thresholds: exhaustive grid,
 * coordinate ascent (a line search on a grid per coordinate, zooming in each round), and
 * Nelder–Mead. Pure; deterministic for a given start.
 */

/** One tuned parameter: its bounds and how many grid points to try. */
export interface ParamSpec {
  name: string;
  lo: number;
  hi: number;
  /** Grid points over [lo, hi] (grid, coordinate ascent). Defaults to 11. */
  steps?: number;
}

/** An optimiser. */
export type OptimizerName = "grid" | "coordinate" | "nelder-mead";

/** Options for {@link maximize}. */
export interface MaximizeOptions {
  /** Which optimiser. Defaults to `coordinate`. */
  method?: OptimizerName;
  /** Starting point (coordinate ascent, Nelder–Mead). Defaults to each range's midpoint. */
  start?: number[];
  /** The most objective evaluations. Defaults to 2000. */
  maxEvals?: number;
  /** Coordinate-ascent rounds (each zooms the grid around the best point by half). Defaults to 4. */
  rounds?: number;
  /** Nelder–Mead stops when the simplex's value spread stays below this for 2(d+1) iterations. Defaults to 1e-6. */
  tolerance?: number;
  /** Nelder–Mead restarts from the best point with a smaller fresh simplex. Defaults to 3. */
  restarts?: number;
}

/** The best point found. */
export interface MaximizeResult {
  x: number[];
  value: number;
  evals: number;
  /** Best value after each evaluation. */
  trace: number[];
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

function grid(lo: number, hi: number, steps: number): number[] {
  if (steps < 2 || hi === lo) return [lo];
  return Array.from({ length: steps }, (_, i) => lo + ((hi - lo) * i) / (steps - 1));
}

/**
 * Maximises `f` over the box `space`.
 * @example maximize(([w, t]) => score(w!, t!), [{ name: "w", lo: 0, hi: 1 }, { name: "t", lo: 0.3, hi: 0.9 }], { method: "nelder-mead" })
 */
export function maximize(f: (x: number[]) => number, space: readonly ParamSpec[], opts: MaximizeOptions = {}): MaximizeResult {
  const { method = "coordinate", maxEvals = 2000, rounds = 4, tolerance = 1e-6, restarts = 3 } = opts;
  const d = space.length;
  space.forEach((p) => {
    if (!(p.hi >= p.lo)) throw new Error(`maximize: parameter ${p.name} has lo ${p.lo} > hi ${p.hi}`);
  });
  const start = opts.start ?? space.map((p) => (p.lo + p.hi) / 2);
  if (start.length !== d) throw new Error(`maximize: start has ${start.length} values for ${d} parameters`);
  let evals = 0;
  let bestX = start.map((v, i) => clamp(v, space[i]!.lo, space[i]!.hi));
  let bestV = Number.NEGATIVE_INFINITY;
  const trace: number[] = [];
  const evalAt = (x: number[]): number => {
    const xc = x.map((v, i) => clamp(v, space[i]!.lo, space[i]!.hi));
    const v = f(xc);
    evals++;
    if (v > bestV) {
      bestV = v;
      bestX = xc;
    }
    trace.push(bestV);
    return v;
  };
  if (d === 0) {
    evalAt([]);
    return { x: [], value: bestV, evals, trace };
  }
  switch (method) {
    case "grid": {
      const axes = space.map((p) => grid(p.lo, p.hi, p.steps ?? 11));
      const total = axes.reduce((s, a) => s * a.length, 1);
      if (total > maxEvals)
        throw new Error(`maximize: the grid has ${total} points, more than maxEvals = ${maxEvals} (use fewer steps or coordinate/nelder-mead)`);
      const idx = new Array<number>(d).fill(0);
      for (let c = 0; c < total; c++) {
        evalAt(idx.map((k, i) => axes[i]![k]!));
        for (let i = d - 1; i >= 0; i--) {
          idx[i]!++;
          if (idx[i]! < axes[i]!.length) break;
          idx[i] = 0;
        }
      }
      break;
    }
    case "coordinate": {
      evalAt(bestX);
      const half = space.map((p) => (p.hi - p.lo) / 2);
      for (let r = 0; r < rounds && evals < maxEvals; r++) {
        let improved = true;
        while (improved && evals < maxEvals) {
          improved = false;
          for (let i = 0; i < d && evals < maxEvals; i++) {
            const p = space[i]!;
            const c = bestX[i]!;
            const before = bestV;
            for (const v of grid(Math.max(p.lo, c - half[i]!), Math.min(p.hi, c + half[i]!), p.steps ?? 11)) {
              if (evals >= maxEvals) break;
              const x = bestX.slice();
              x[i] = v;
              evalAt(x);
            }
            if (bestV > before + 1e-12) improved = true;
          }
        }
        for (let i = 0; i < d; i++) half[i]! /= 2;
      }
      break;
    }
    case "nelder-mead": {
      // F1 is piecewise constant, so a simplex can stall on a plateau: restart around the best
      // point with a fresh simplex (steps 25%, 12.5%, … of each range) until restarts run out.
      for (let restart = 0; restart <= restarts && evals < maxEvals; restart++) {
        const simplex: number[][] = [bestX.slice()];
        for (let i = 0; i < d; i++) {
          const x = bestX.slice();
          const step = (0.25 / 2 ** restart) * (space[i]!.hi - space[i]!.lo) || 0.1;
          x[i] = x[i]! + step <= space[i]!.hi ? x[i]! + step : x[i]! - step;
          simplex.push(x);
        }
        let vals = simplex.map((x) => evalAt(x));
        let stalled = 0;
        while (evals < maxEvals) {
          const order = vals.map((_, i) => i).sort((a, b) => vals[b]! - vals[a]!);
          const s = order.map((i) => simplex[i]!);
          vals = order.map((i) => vals[i]!);
          simplex.splice(0, simplex.length, ...s);
          // stop once the spread has stayed below tolerance for 2(d+1) iterations (shrinks included)
          if (Math.abs(vals[0]! - vals[d]!) < tolerance && ++stalled > 2 * (d + 1)) break;
          const centroid = new Array<number>(d).fill(0);
          for (let j = 0; j < d; j++) for (let i = 0; i < d; i++) centroid[i]! += simplex[j]![i]! / d;
          const worst = simplex[d]!;
          const along = (t: number) => centroid.map((c, i) => clamp(c + t * (c - worst[i]!), space[i]!.lo, space[i]!.hi));
          const xr = along(1);
          const vr = evalAt(xr);
          if (vr > vals[0]!) {
            const xe = along(2);
            const ve = evalAt(xe);
            simplex[d] = ve > vr ? xe : xr;
            vals[d] = Math.max(ve, vr);
          } else if (vr > vals[d - 1]!) {
            simplex[d] = xr;
            vals[d] = vr;
          } else {
            const xc = vr > vals[d]! ? along(0.5) : along(-0.5);
            const vc = evalAt(xc);
            if (vc > Math.min(vr, vals[d]!) && vc > vals[d]!) {
              simplex[d] = xc;
              vals[d] = vc;
            } else {
              for (let j = 1; j <= d && evals < maxEvals; j++) {
                simplex[j] = simplex[j]!.map((v, i) => simplex[0]![i]! + 0.5 * (v - simplex[0]![i]!));
                vals[j] = evalAt(simplex[j]!);
              }
            }
          }
        }
      }
      break;
    }
    default:
      throw new Error(`unknown optimizer: ${method as string} (expected grid|coordinate|nelder-mead)`);
  }
  return { x: bestX, value: bestV, evals, trace };
}

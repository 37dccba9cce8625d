import { describe, expect, it } from "vitest";
import { formatDuration, formatProgress, type ProgressState, progress } from "../src/progress";

describe("progress", () => {
  it("formats durations", () => {
    expect(formatDuration(4200)).toBe("4.2s");
    expect(formatDuration(185_000)).toBe("3m05s");
    expect(formatDuration(3_720_000)).toBe("1h02m");
  });

  it("throttles redraws with an injected clock and always draws the end", () => {
    let t = 0;
    const seen: ProgressState[] = [];
    const bar = progress({ total: 10, minIntervalMs: 100, now: () => t, renderer: { update: (s) => seen.push(s) } });
    for (let i = 0; i < 10; i++) {
      t += 30;
      bar.tick();
    }
    bar.finish("done");
    const last = seen.at(-1)!;
    expect(last.finished).toBe(true);
    expect(last.done).toBe(10);
    expect(seen.length).toBeLessThan(6);
    expect(formatProgress(last)).toContain("100%");
    expect(formatProgress(last)).toContain("10/10");
  });
});

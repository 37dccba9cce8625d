"""FAISS IndexFlatIP peer for `npm run bench -- knn`: exact top-k inner-product search over the
same float32 matrix (L2-normalised rows, row-major .f32 file). Prints one JSON line; writes the
neighbour indices (int32, n x k) next to the input for the agreement check."""
import json
import sys
import time

try:
    import faiss
    import numpy as np
except ImportError as e:  # reported by the caller as a skip
    print(json.dumps({"bench": "knn", "impl": "faiss-IndexFlatIP", "skipped": f"import failed: {e}"}))
    sys.exit(0)

path, n, d, k, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
x = np.fromfile(path, dtype=np.float32).reshape(n, d)
faiss.omp_set_num_threads(threads)
t0 = time.perf_counter()
c0 = time.process_time()
index = faiss.IndexFlatIP(d)
index.add(x)
_, idx = index.search(x, k)
ms = (time.perf_counter() - t0) * 1000
cpu_ms = (time.process_time() - c0) * 1000
idx.astype(np.int32).tofile(path + ".faiss_idx")
print(json.dumps({"bench": "knn", "case": f"{n}x{d} top-{k}", "impl": "faiss-IndexFlatIP", "ms": round(ms, 1), "cpu_ms": round(cpu_ms, 1),
                  "threads": threads, "gflops": round(2 * n * n * d / ms / 1e6, 1), "faiss": faiss.__version__}))

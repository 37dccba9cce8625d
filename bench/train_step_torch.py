#!/usr/bin/env python3
"""PyTorch peer of bench/train_step.ts: the same three nets, one Adam training step each.

Run by `npm run bench -- train-step` as `/usr/bin/python3 bench/train_step_torch.py` (Debian's
python3-torch; tests never need it). Prints one JSON line per case:
{"bench":"train-step","case":"ref-cnn","impl":"pytorch","ms":..,"cpu_ms":..,"steps":..,"threads":..}
Nets mirror src/models/ref_cnn.ts, src/models/mobilenet_v2.ts (same layout; "same" padding) and the
VQA-style MLP head in bench/train_step.ts. Input is NHWC in tfjs and NCHW here; shapes otherwise match.
"""
import argparse
import json
import statistics
import sys
import time

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError as e:  # the caller reports the skip
    print(json.dumps({"bench": "train-step", "impl": "pytorch", "skipped": f"torch not importable: {e}"}))
    sys.exit(0)


def ref_cnn(classes=10, filters=(32, 64, 128)):
    f0, f1, f2 = filters
    return nn.Sequential(
        nn.Conv2d(3, f0, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(f0, f1, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(f1, f2, 3, padding=1), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(f2, classes),
    )


def make_divisible(v, divisor=8, min_value=None):
    min_value = min_value or divisor
    n = max(min_value, int(v + divisor / 2) // divisor * divisor)
    return n + divisor if n < 0.9 * v else n


class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, stride, t):
        super().__init__()
        hidden = cin * t
        layers = []
        if t != 1:
            layers += [nn.Conv2d(cin, hidden, 1, bias=False), nn.BatchNorm2d(hidden, eps=1e-3, momentum=1e-3), nn.ReLU6()]
        layers += [
            nn.Conv2d(hidden, hidden, 3, stride, 1, groups=hidden, bias=False), nn.BatchNorm2d(hidden, eps=1e-3, momentum=1e-3), nn.ReLU6(),
            nn.Conv2d(hidden, cout, 1, bias=False), nn.BatchNorm2d(cout, eps=1e-3, momentum=1e-3),
        ]
        self.body = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        y = self.body(x)
        return x + y if self.residual else y


def mobilenet_v2(alpha=1.0, classes=10):
    stages = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]
    first = make_divisible(32 * alpha, 8)
    layers = [nn.Conv2d(3, first, 3, 2, 1, bias=False), nn.BatchNorm2d(first, eps=1e-3, momentum=1e-3), nn.ReLU6()]
    cin = first
    for t, c, n, s in stages:
        cout = make_divisible(c * alpha, 8)
        for i in range(n):
            layers.append(InvertedResidual(cin, cout, s if i == 0 else 1, t))
            cin = cout
    last = make_divisible(1280 * alpha, 8) if alpha > 1.0 else 1280
    layers += [nn.Conv2d(cin, last, 1, bias=False), nn.BatchNorm2d(last, eps=1e-3, momentum=1e-3), nn.ReLU6(),
               nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(last, classes)]
    return nn.Sequential(*layers)


def vqa_mlp():
    return nn.Sequential(nn.Linear(1280, 512), nn.ReLU(), nn.Linear(512, 3129))


CASES = {
    # name: (builder, input shape (NCHW or N×F), classes)
    "ref-cnn": (lambda: ref_cnn(10), (32, 3, 64, 64), 10),
    "mobilenetv2": (lambda: mobilenet_v2(1.0, 10), (16, 3, 96, 96), 10),
    "vqa-mlp": (vqa_mlp, (64, 1280), 3129),
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--cases", default=",".join(CASES))
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    for name in a.cases.split(","):
        if name not in CASES:
            raise SystemExit(f"unknown case: {name} (expected {'|'.join(CASES)})")
        build, shape, classes = CASES[name]
        model = build()
        model.train()
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        x = torch.randn(*shape)
        y = torch.arange(shape[0]) % classes

        def step():
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return float(loss)

        for _ in range(a.warmup):
            step()
        wall, cpu = [], []
        for _ in range(a.steps):
            t0, c0 = time.perf_counter(), time.process_time()
            step()
            wall.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
        print(json.dumps({
            "bench": "train-step", "case": name, "impl": "pytorch", "ms": round(statistics.median(wall), 2),
            "cpu_ms": round(statistics.median(cpu), 2), "steps": a.steps, "batch": shape[0], "threads": a.threads,
            "version": torch.__version__,
        }), flush=True)


if __name__ == "__main__":
    main()

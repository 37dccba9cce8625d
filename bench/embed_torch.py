"""The PyTorch peer of `npm run bench -- embed`: the same MLP head (in→hidden→classes, Adam,
softmax cross-entropy) timed per step on the CPU. Prints one JSON line per measurement, or one
line with "skipped" when torch is absent. Usage: embed_torch.py IN HIDDEN CLASSES BATCH STEPS THREADS"""
import json
import sys
import time

args = [int(a) for a in sys.argv[1:7]] if len(sys.argv) >= 7 else [1280, 512, 3129, 64, 30, 0]
d_in, hidden, classes, batch, steps, threads = args
case = f"mlp-{d_in}-{hidden}-{classes}-b{batch}"
try:
    import torch
except ImportError as e:  # noqa: F841
    print(json.dumps({"bench": "embed-head", "case": case, "impl": "pytorch", "skipped": "torch not installed for this python"}))
    sys.exit(0)

if threads > 0:
    torch.set_num_threads(threads)
torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Linear(d_in, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, classes))
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
x = torch.randn(batch, d_in)
y = torch.randint(0, classes, (batch,))
loss_fn = torch.nn.CrossEntropyLoss()


def step():
    opt.zero_grad(set_to_none=True)
    loss = loss_fn(model(x), y)
    loss.backward()
    opt.step()
    return loss.item()


for _ in range(5):
    step()
t0 = time.perf_counter()
for _ in range(steps):
    step()
ms = (time.perf_counter() - t0) * 1000 / steps
print(json.dumps({"bench": "embed-head", "case": case, "impl": "pytorch", "ms": round(ms, 3), "threads": torch.get_num_threads(), "torch": torch.__version__}))

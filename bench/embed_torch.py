"""The PyTorch peer of `npm run bench -- embed`: the same model as matchlab's `model.input: features`
run on one cached block (features IN → embedding HIDDEN: Linear + BatchNorm1d → softmax head Linear
→ CLASSES; AdamW lr 1e-3 with weight decay 1e-4 on weight matrices only; softmax cross-entropy),
timed per step on the CPU on one fixed batch. Prints one JSON line per measurement, or one line with
"skipped" when torch is absent. Usage: embed_torch.py IN HIDDEN CLASSES BATCH STEPS THREADS"""
import json
import sys
import time

args = [int(a) for a in sys.argv[1:7]] if len(sys.argv) >= 7 else [1280, 512, 3129, 64, 30, 0]
d_in, hidden, classes, batch, steps, threads = args
case = f"features-{d_in}-{hidden}-{classes}-b{batch}"
try:
    import torch
except ImportError as e:  # noqa: F841
    print(json.dumps({"bench": "embed-head", "case": case, "impl": "pytorch", "skipped": "torch not installed for this python"}))
    sys.exit(0)

if threads > 0:
    torch.set_num_threads(threads)
torch.manual_seed(0)
# tfjs BatchNormalization: epsilon 1e-3, moving averages with momentum 0.9 (torch's momentum 0.1)
model = torch.nn.Sequential(torch.nn.Linear(d_in, hidden), torch.nn.BatchNorm1d(hidden, eps=1e-3, momentum=0.1), torch.nn.Linear(hidden, classes))
# matchlab's AdamW decays weight matrices only (not biases or BatchNorm's scale and offset)
decay = [p for p in model.parameters() if p.dim() > 1]
no_decay = [p for p in model.parameters() if p.dim() <= 1]
opt = torch.optim.AdamW([{"params": decay, "weight_decay": 1e-4}, {"params": no_decay, "weight_decay": 0.0}], lr=1e-3)
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

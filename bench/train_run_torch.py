#!/usr/bin/env python3
"""PyTorch twin of bench/train_run.ts: a whole training run of a matchlab recipe (quick.yaml, fast.yaml).

Run by `npm run bench -- train-run` as `/usr/bin/python3 bench/train_run_torch.py --data DIR --out DIR`
(Debian's python3-torch and python3-pil; tests need neither). DIR holds what the TS side exports per
recipe: meta.json (the rows' image paths, the split: training rows with their head classes and
validation rows with their groups, the resolved run config, the planned optimiser steps) and text.f32
(the hashed n-gram title features matchlab computes, n × dim float32: read, not recomputed here, so
the twin needs no port of the hashing). Prints one JSON line:
{"bench":"train-run","case":..,"impl":"pytorch","threads":..,"samples_per_s":..,"ms":..,"setup_ms":..,
 "valid_ms":..,"params":..,...}

What it mirrors (src/train/run.ts and what it calls): images decoded once up front at data.decode_size
(alpha flattened onto white, bilinear resize, uint8), counted as setup with reading the features and
building the model; the model of src/models/multimodal.ts (small ResNet: conv-BN-ReLU stem, basic
blocks with 1×1 stride-2 projections; GeM pooling with a learned p; n-gram text: dense → ReLU; concat
fusion; per branch dropout → dense → BatchNorm (eps 1e-3, momentum 0.1 in PyTorch's convention); all
three branch embeddings computed every step, as the one tfjs model does); an ArcFace head per configured
branch (s, m, InsightFace's th/mm rule, and heads.*.k sub-centres max-pooled for subcenter_arcface, one
centre for arcface; the recipes use subcenter_arcface with k 3), cross-entropy weighted per head; AdamW (decay only on weights
of rank ≥ 2; parameters without a gradient get a zero one, as matchlab's Learner gives them), global
grad-norm clipping, warmup + cosine to optim.min_lr_factor; batches of a seeded permutation per epoch,
last partial batch dropped; data.augment in torch tensor ops on the batch (random resized crop as
torchvision draws it, through affine_grid/grid_sample; horizontal flip; colour jitter: brightness,
contrast, saturation and hue in a random order per image, clamped); the margin-free logits of the main
head for training accuracy; checkpoints (model + optimiser) every train.ckpt_period steps and
best-so-far after a validation; validation as the match task does it (the main branch's L2-normalised
embeddings of the validation rows, centre-cropped; top-k cosine neighbours; mean per-posting F1 over
41 distance thresholds with the min-2 rule; leave-one-out kNN accuracy, top-5 and an NCA loss); the
untrained model validated first; out-of-fold embeddings of every branch at the end.

What it does differently: NCHW tensors; PyTorch's symmetric "same" padding for the stride-2 3×3
convolutions (TF pads one more row and column at the end: same output size and cost); PyTorch's
initialisers and random streams (so losses and val_f1 differ by chance); grid_sample clamps the crop's
samples to the image border where matchlab clamps to the crop box (they differ only within half a
pixel of a crop edge); augmentation runs in this process's threads (fast.yaml gives matchlab one
augmentation worker thread, data.num_workers: 1); images decoded by PIL rather than sharp (both
bilinear) from paths the TS side lists (it reads the CSV and checks the image headers, a part of
matchlab's setup the twin skips); no metrics.csv or log lines.
"""
import argparse
import json
import math
import os
import random
import statistics
import sys
import time

try:
    import numpy as np
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError as e:  # the caller reports the skip
    print(json.dumps({"bench": "train-run", "impl": "pytorch", "skipped": f"torch not importable: {e}"}))
    sys.exit(0)
try:
    from PIL import Image
except ImportError as e:
    print(json.dumps({"bench": "train-run", "impl": "pytorch", "skipped": f"PIL not importable: {e} (apt-get install python3-pil)"}))
    sys.exit(0)


# ---------------------------------------------------------------- data


def decode_images(paths, size):
    """Every distinct image once, as matchlab's decode cache does: RGB uint8 [n, size, size, 3]."""
    out = np.empty((len(paths), size, size, 3), dtype=np.uint8)
    first = {}
    for i, p in enumerate(paths):
        j = first.get(p)
        if j is not None:
            out[i] = out[j]
            continue
        with Image.open(p) as im:
            im = im.convert("RGBA")
            bg = Image.new("RGBA", im.size, (255, 255, 255, 255))
            rgb = Image.alpha_composite(bg, im).convert("RGB").resize((size, size), Image.BILINEAR)
            out[i] = np.asarray(rgb, dtype=np.uint8)
        first[p] = i
    return out


def grey(x):
    """ITU-R 601 luma of NCHW RGB, [n, 1, H, W]."""
    return (0.299 * x[:, 0:1] + 0.587 * x[:, 1:2] + 0.114 * x[:, 2:3])


def rgb_to_hsv(x):
    r, g, b = x[:, 0], x[:, 1], x[:, 2]
    mx, _ = x.max(1)
    mn, _ = x.min(1)
    c = mx - mn
    safe = torch.where(c > 0, c, torch.ones_like(c))
    h = torch.where(mx == r, torch.remainder((g - b) / safe, 6), torch.where(mx == g, (b - r) / safe + 2, (r - g) / safe + 4))
    h = torch.where(c > 0, h / 6, torch.zeros_like(h))
    s = torch.where(mx > 0, c / torch.where(mx > 0, mx, torch.ones_like(mx)), torch.zeros_like(mx))
    return h, s, mx, c > 0


def hsv_to_rgb(h, s, v):
    h6 = h * 6
    k = torch.floor(h6)
    f = h6 - k
    k = torch.remainder(k, 6).long()
    p = v * (1 - s)
    q = v * (1 - s * f)
    t = v * (1 - s * (1 - f))
    choices = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)]
    r = torch.zeros_like(v)
    g = torch.zeros_like(v)
    b = torch.zeros_like(v)
    for i, (cr, cg, cb) in enumerate(choices):
        m = k == i
        r = torch.where(m, cr, r)
        g = torch.where(m, cg, g)
        b = torch.where(m, cb, b)
    return torch.stack([r, g, b], 1)


def jitter_op(name, x, f):
    """One colour-jitter step on images [n,3,H,W] with per-image factors f [n]."""
    f4 = f.view(-1, 1, 1, 1)
    if name == "brightness":
        return (x * f4).clamp(0, 1)
    if name == "contrast":
        mean = grey(x).mean((1, 2, 3), keepdim=True)
        return (mean + (x - mean) * f4).clamp(0, 1)
    if name == "saturation":
        g = grey(x)
        return (g + (x - g) * f4).clamp(0, 1)
    h, s, v, chroma = rgb_to_hsv(x)
    h = torch.remainder(h + f.view(-1, 1, 1), 1.0)
    return torch.where(chroma.unsqueeze(1), hsv_to_rgb(h, s, v), x)


JITTER = ("brightness", "contrast", "saturation", "hue")


def crop_box(h, w, scale, ratio, rnd):
    """torchvision's RandomResizedCrop box: 10 tries, then a centre crop clamped to the ratio range."""
    area = h * w
    lr0, lr1 = math.log(ratio[0]), math.log(ratio[1])
    for _ in range(10):
        target = area * (scale[0] + (scale[1] - scale[0]) * rnd.random())
        ar = math.exp(lr0 + (lr1 - lr0) * rnd.random())
        cw = round(math.sqrt(target * ar))
        ch = round(math.sqrt(target / ar))
        if 0 < cw <= w and 0 < ch <= h:
            return math.floor(rnd.random() * (h - ch + 1)), math.floor(rnd.random() * (w - cw + 1)), ch, cw
    r = w / h
    if r < ratio[0]:
        cw, ch = w, round(w / ratio[0])
    elif r > ratio[1]:
        ch, cw = h, round(h * ratio[1])
    else:
        cw, ch = w, h
    return (h - ch) // 2, (w - cw) // 2, ch, cw


def augment(x, specs, rnd, gen):
    """data.augment on a batch of NCHW floats in [0, 1], per-image randomness."""
    for spec in specs:
        (name, o), = spec.items()
        n, _, H, W = x.shape
        if name == "randomResizedCrop":
            size = o["size"] if isinstance(o["size"], int) else o["size"][0]
            scale = o.get("scale", [0.08, 1])
            ratio = o.get("ratio", [3 / 4, 4 / 3])
            theta = torch.zeros(n, 2, 3)
            for i in range(n):
                top, left, ch, cw = crop_box(H, W, scale, ratio, rnd)
                theta[i, 0, 0] = cw / W
                theta[i, 0, 2] = (2 * left + cw) / W - 1
                theta[i, 1, 1] = ch / H
                theta[i, 1, 2] = (2 * top + ch) / H - 1
            grid = F.affine_grid(theta, [n, 3, size, size], align_corners=False)
            x = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
        elif name == "horizontalFlip":
            m = torch.rand(n, generator=gen) < o.get("p", 0.5)
            x = torch.where(m.view(-1, 1, 1, 1), x.flip(3), x)
        elif name == "colorJitter":
            if o.get("p", 1) < 1:
                raise SystemExit("colorJitter p < 1: not mirrored")
            ranges = {
                "brightness": (max(0, 1 - o.get("brightness", 0.2)), 1 + o.get("brightness", 0.2)),
                "contrast": (max(0, 1 - o.get("contrast", 0.2)), 1 + o.get("contrast", 0.2)),
                "saturation": (max(0, 1 - o.get("saturation", 0.2)), 1 + o.get("saturation", 0.2)),
                "hue": (-o.get("hue", 0.05), o.get("hue", 0.05)),
            }
            order = torch.argsort(torch.rand(n, 4, generator=gen), 1)
            factors = {k: lo + (hi - lo) * torch.rand(n, generator=gen) for k, (lo, hi) in ranges.items()}
            x = x.clone()
            for pos in range(4):
                for oi, op in enumerate(JITTER):
                    lo, hi = ranges[op]
                    if lo == hi and (lo == 0 if op == "hue" else lo == 1):
                        continue
                    sel = (order[:, pos] == oi).nonzero().flatten()
                    if sel.numel():
                        x[sel] = jitter_op(op, x[sel], factors[op][sel])
        else:
            raise SystemExit(f"data.augment {name}: not mirrored by the twin")
    return x


# ---------------------------------------------------------------- model


def bn2d(c):
    return nn.BatchNorm2d(c, eps=1e-3, momentum=0.1)


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = bn2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = bn2d(cout)
        self.proj = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), bn2d(cout)) if stride != 1 or cin != cout else None

    def forward(self, h):
        y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(h)))))
        return F.relu(y + (self.proj(h) if self.proj is not None else h))


class MatchNet(nn.Module):
    """src/models/multimodal.ts with a resnet image encoder, GeM, an n-gram text encoder and concat fusion."""

    def __init__(self, m, text_dim):
        super().__init__()
        img = m["image"]
        widths, blocks, E = img["widths"], img["blocks"], m["embedding_dim"]
        if img["pooling"] != "gem":
            raise SystemExit(f"pooling {img['pooling']}: not mirrored")
        layers = [nn.Conv2d(3, widths[0], 3, 1, 1, bias=False), bn2d(widths[0]), nn.ReLU()]
        ch = widths[0]
        for s, w in enumerate(widths):
            for b in range(blocks):
                layers.append(Block(ch, w, 2 if s > 0 and b == 0 else 1))
                ch = w
        self.resnet = nn.Sequential(*layers)
        self.gem_p = nn.Parameter(torch.full((1,), 3.0))
        hid = max(E, 128)
        self.txt_hidden = nn.Linear(text_dim, hid)

        def embed(d):
            return nn.Sequential(*([nn.Dropout(m["dropout"])] if m["dropout"] > 0 else []), nn.Linear(d, E), nn.BatchNorm1d(E, eps=1e-3, momentum=0.1))

        self.emb = nn.ModuleDict({"image": embed(ch), "text": embed(hid), "fused": embed(ch + hid)})

    def forward(self, x, t):
        f = self.resnet(x)
        pooled = f.clamp(min=1e-6).pow(self.gem_p).mean((2, 3)).pow(1 / self.gem_p)
        tv = F.relu(self.txt_hidden(t))
        return {"image": self.emb["image"](pooled), "text": self.emb["text"](tv), "fused": self.emb["fused"](torch.cat([pooled, tv], 1))}


class ArcFace(nn.Module):
    """src/heads/arcface.ts (CosineHead with k sub-centres per class, max-pooled)."""

    def __init__(self, dim, classes, s, m, k, easy_margin):
        super().__init__()
        self.classes, self.s, self.m, self.k, self.easy = classes, s, m, k, easy_margin
        self.kernel = nn.Parameter(torch.empty(dim, classes * k))
        nn.init.xavier_uniform_(self.kernel)

    def cosine(self, emb):
        w = self.kernel / (self.kernel.square().sum(0, keepdim=True) + 1e-12).sqrt()
        e = emb / (emb.square().sum(1, keepdim=True) + 1e-12).sqrt()
        cos = (e @ w).clamp(-1, 1)
        return cos if self.k == 1 else cos.view(-1, self.classes, self.k).amax(2)

    def forward(self, emb, labels=None):
        cos = self.cosine(emb)
        if labels is None:
            return cos * self.s
        sin = (1 - cos.square()).clamp(1e-7, 1).sqrt()
        phi = cos * math.cos(self.m) - sin * math.sin(self.m)
        if self.easy:
            ok = (cos > 0).float()
            phi = ok * phi + (1 - ok) * cos
        else:
            ok = (cos - math.cos(math.pi - self.m) > 0).float()
            phi = ok * phi + (1 - ok) * (cos - math.sin(math.pi - self.m) * self.m)
        onehot = F.one_hot(labels, self.classes).float()
        return (onehot * phi + (1 - onehot) * cos) * self.s


def lr_factor(step, warmup, total, min_factor):
    """src/train/schedule.ts, cosine."""
    if step < warmup:
        return (step + 1) / warmup
    p = min(1.0, (step - warmup) / max(1, total - warmup))
    return min_factor + (1 - min_factor) * 0.5 * (1 + math.cos(math.pi * p))


# ---------------------------------------------------------------- validation


def validate(net, images, text, rows, labels, cfg, decode, size):
    """The match task's validation (src/train/tasks/match.ts) on the main branch."""
    net.eval()
    branch = cfg["eval"]["branch"]
    bs = cfg["eval"]["batch_size"]
    off = round((decode - size) / 2)
    embs = []
    with torch.no_grad():
        for s in range(0, len(rows), bs):
            idx = rows[s:s + bs]
            x = images[idx].permute(0, 3, 1, 2).float().div(255)
            if decode != size:
                x = x[:, :, off:off + size, off:off + size]
            e = net(x, text[idx])[branch]
            embs.append(e / (e.square().sum(1, keepdim=True) + 1e-12).sqrt())
    net.train()
    emb = torch.cat(embs)
    nv = emb.shape[0]
    if not torch.isfinite(emb).all():
        raise SystemExit("non-finite validation embeddings")
    lab = labels[rows]
    sim = emb @ emb.T
    k = min(cfg["match"]["knn"], nv)
    top, idx = sim.topk(k, 1)
    dist = 1 - top
    other = idx != torch.arange(nv).view(-1, 1)
    same = lab[idx] == lab.view(-1, 1)
    group = (lab.view(-1, 1) == lab.view(1, -1)).sum(1).float()
    d = dist[other]
    best = 0.0
    first = other.float().argmax(1)
    has_other = other.any(1)
    for t in torch.linspace(float(d.min()), float(d.max()), 41) if d.numel() else [torch.tensor(0.0)]:
        m = other & (dist <= t)
        none = ~m.any(1) & has_other
        m = m.clone()
        m[none, first[none]] = True
        size_ = 1 + m.sum(1).float()
        inter = 1 + (m & same).sum(1).float()
        best = max(best, float((2 * inter / (size_ + group)).mean()))
    # leave-one-out kNN classification, top-5 and the NCA loss
    correct = top5 = 0
    for i in range(nv):
        seen = []
        pred = -1
        for t in range(k):
            j = int(idx[i, t])
            if j == i:
                continue
            if pred == -1:
                pred = int(lab[j])
            if len(seen) < 5 and int(lab[j]) not in seen:
                seen.append(int(lab[j]))
        correct += pred == int(lab[i])
        top5 += int(lab[i]) in seen
    e = torch.exp(16 * (sim - 1)) * (1 - torch.eye(nv))
    num = (e * (lab.view(-1, 1) == lab.view(1, -1)).float()).sum(1)
    den = e.sum(1)
    ok = num > 0
    nca = float((-(num[ok] / den[ok]).log()).mean()) if ok.any() else float("nan")
    return {"val_f1": best, "val_accuracy": correct / max(1, nv), "val_top5": top5 / max(1, nv), "val_loss": nca}


# ---------------------------------------------------------------- the run


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True, help="the folder the TS side exported (meta.json, text.f32)")
    ap.add_argument("--out", required=True, help="a scratch folder for checkpoints and out-of-fold files")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=0, help="timed steps (0: the rest of the run)")
    ap.add_argument("--warmup", type=int, default=3)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    t_start = time.perf_counter()

    # setup: the exported rows and features, the images decoded once, the model and optimiser
    with open(os.path.join(a.data, "meta.json")) as f:
        meta = json.load(f)
    cfg = meta["config"]
    torch.manual_seed(cfg["seed"])
    rnd = random.Random(cfg["seed"])
    gen = torch.Generator().manual_seed(cfg["seed"])
    n = meta["n"]
    dim = cfg["model"]["text"]["dim"]
    text = torch.from_numpy(np.fromfile(os.path.join(a.data, "text.f32"), dtype="<f4").reshape(n, dim).copy())
    decode, size = meta["decode_size"], cfg["data"]["image_size"]
    images = torch.from_numpy(decode_images(meta["images"], decode))
    train = torch.tensor(meta["train"], dtype=torch.long)
    valid = torch.tensor(meta["valid"], dtype=torch.long)
    class_of = torch.tensor(meta["class_of"], dtype=torch.long)
    labels = torch.tensor(meta["labels"], dtype=torch.long)
    C = meta["num_classes"]
    net = MatchNet(cfg["model"], dim)
    heads = nn.ModuleDict({b: ArcFace(cfg["model"]["embedding_dim"], C, h["s"], h["m"], h["k"] if h["kind"] == "subcenter_arcface" else 1, h["easy_margin"]) for b, h in cfg["heads"].items()})
    for b, h in cfg["heads"].items():
        if h["kind"] not in ("arcface", "subcenter_arcface") or h.get("m_warmup", 0) > 0:
            raise SystemExit(f"heads.{b}: {h['kind']} (m_warmup {h.get('m_warmup')}): not mirrored")
    main_branch = cfg["eval"]["branch"] if cfg["eval"]["branch"] in cfg["heads"] else next(iter(cfg["heads"]))
    params = [p for p in list(net.parameters()) + list(heads.parameters())]
    o, tr = cfg["optim"], cfg["train"]
    if o["optimizer"] != "adamw" or o["schedule"] != "cosine" or o["param_groups"] or tr["gradient_accumulation_steps"] != 1:
        raise SystemExit("optimiser, schedule, param groups or accumulation: not mirrored")
    decayed = [p for p in params if p.dim() >= 2]
    plain = [p for p in params if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decayed, "weight_decay": o["weight_decay"]}, {"params": plain, "weight_decay": 0.0}], lr=o["lr"], betas=(0.9, 0.999), eps=1e-8)
    n_params = sum(p.numel() for p in params)
    net.train()
    heads.train()
    setup_ms = (time.perf_counter() - t_start) * 1000

    os.makedirs(a.out, exist_ok=True)

    def save(name):
        torch.save({"net": net.state_dict(), "heads": heads.state_dict(), "opt": opt.state_dict()}, os.path.join(a.out, name))

    t0 = time.perf_counter()
    untrained = validate(net, images, text, valid, labels, cfg, decode, size) if len(valid) else None
    untrained_ms = (time.perf_counter() - t0) * 1000

    B = o["batch_size"]
    per_epoch = len(train) // B
    total = meta["total_steps"]
    max_iters = tr["max_iters"]
    step = 0
    step_ms, step_cpu, valid_ms = [], [], []
    best = -math.inf
    metrics = None
    train_hits = []
    for epoch in range(o["epochs"]):
        if max_iters > 0 and step >= max_iters:
            break
        order = torch.randperm(len(train), generator=torch.Generator().manual_seed(cfg["seed"] * 100003 + epoch))
        tw, tc = time.perf_counter(), time.process_time()
        for b in range(per_epoch):
            rows = train[order[b * B:(b + 1) * B]]
            x = images[rows].permute(0, 3, 1, 2).float().div(255)
            if cfg["data"]["augment"]:
                x = augment(x, cfg["data"]["augment"], rnd, gen)
            y = class_of[rows]
            outs = net(x, text[rows])
            loss = sum(F.cross_entropy(heads[br](outs[br], y), y) * cfg["heads"][br]["weight"] for br in cfg["heads"])
            with torch.no_grad():
                logits = heads[main_branch](outs[main_branch])
                train_hits.append(int((logits.argmax(1) == y).sum()))
            opt.zero_grad(set_to_none=False)
            loss.backward()
            for p in params:
                if p.grad is None:
                    p.grad = torch.zeros_like(p)
            norm = float(torch.nn.utils.clip_grad_norm_(params, tr["max_grad_norm"])) if tr["max_grad_norm"] > 0 else 0.0
            lv = float(loss)
            if not (math.isfinite(lv) and math.isfinite(norm)):
                raise SystemExit(f"non-finite step {step + 1}: loss {lv}, grad norm {norm}")
            f = lr_factor(step, tr["warmup_steps"], total, o["min_lr_factor"])
            for g in opt.param_groups:
                g["lr"] = o["lr"] * f
            opt.step()
            step += 1
            if tr["ckpt_period"] > 0 and step % tr["ckpt_period"] == 0 and b + 1 < per_epoch:
                save(f"step-{step}.ckpt")
            tw2, tc2 = time.perf_counter(), time.process_time()
            step_ms.append((tw2 - tw) * 1000)
            step_cpu.append((tc2 - tc) * 1000)
            tw, tc = tw2, tc2
            if max_iters > 0 and step >= max_iters:
                break
        if len(valid):
            tv = time.perf_counter()
            metrics = validate(net, images, text, valid, labels, cfg, decode, size)
            if metrics["val_f1"] > best:
                best = metrics["val_f1"]
                save("best.ckpt")
            valid_ms.append((time.perf_counter() - tv) * 1000)
        save(f"step-{step}.ckpt")
    # out-of-fold embeddings of every branch (matchlab writes them from best.ckpt at the end)
    if len(valid):
        net.eval()
        with torch.no_grad():
            x = images[valid].permute(0, 3, 1, 2).float().div(255)
            if decode != size:
                off = round((decode - size) / 2)
                x = x[:, :, off:off + size, off:off + size]
            for br, e in net(x, text[valid]).items():
                (e / (e.square().sum(1, keepdim=True) + 1e-12).sqrt()).numpy().astype("<f4").tofile(os.path.join(a.out, f"{br}.f32"))
    run_ms = (time.perf_counter() - t_start) * 1000

    timed = step_ms[a.warmup:]
    if a.steps > 0:
        timed = timed[:a.steps]
    cpu = step_cpu[a.warmup:a.warmup + len(timed)]
    train_ms = sum(timed)
    samples = B * len(timed)
    r1 = lambda v: None if v is None else round(v, 1)  # noqa: E731
    print(json.dumps({
        "bench": "train-run", "case": meta["case"], "impl": "pytorch", "threads": a.threads, "batch": B,
        "steps": len(timed), "warmup": a.warmup, "samples": samples,
        "samples_per_s": r1(samples * 1000 / train_ms) if train_ms > 0 else None,
        "ms": r1(train_ms / max(1, len(timed))), "ms_median": r1(statistics.median(timed)) if timed else None,
        "cpu_ms": r1(sum(cpu) / max(1, len(cpu))), "setup_ms": r1(setup_ms), "untrained_ms": r1(untrained_ms),
        "valid_ms": r1(statistics.median(valid_ms)) if valid_ms else None, "run_ms": r1(run_ms),
        "params": n_params, "val_f1": round(metrics["val_f1"], 4) if metrics else None,
        "untrained_f1": round(untrained["val_f1"], 4) if untrained else None, "version": torch.__version__,
    }), flush=True)


if __name__ == "__main__":
    main()

"""GPU check, the Python half of ``benchmarks/gpu_check.sh`` (issue 15.6).

Times the CUDA full-covariance op against its torch twin (forward + backward) and trains the
conv β-VAE for ``--steps`` steps at batch 64 on the GPU, measuring whether the CPU renderer keeps up
(render time per batch vs GPU step time). Prints one summary table (Markdown) and writes it as
JSON beside it when ``--json FILE`` is given.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch


def _time(fn, repeats: int) -> float:
    fn()
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(repeats):
        fn()
    torch.cuda.synchronize()
    return (time.perf_counter() - t0) / repeats


def full_cov_rows(repeats: int = 50) -> list[dict]:
    from vaecore.ops import full_cov_rsample

    rows = []
    for B, k in ((1024, 10), (4096, 32)):
        g = torch.Generator(device="cuda").manual_seed(0)
        mu = torch.randn(B, k, device="cuda", generator=g).requires_grad_(True)
        A = torch.randn(B, k, k, device="cuda", generator=g)
        L = (A.tril(-1) * 0.3 + torch.diag_embed(torch.exp(0.2 * A.diagonal(dim1=1, dim2=2))))
        L.requires_grad_(True)
        eps = torch.randn(B, k, device="cuda", generator=g)

        def step(backend: str) -> None:
            z, kl = full_cov_rsample(mu, L, eps, backend=backend)
            (z.sum() + kl.sum()).backward()
            mu.grad = None
            L.grad = None

        t_native = _time(lambda: step("native"), repeats)
        t_ref = _time(lambda: step("reference"), repeats)
        rows.append({"what": f"full_cov fwd+bwd B={B} k={k}", "native_ms": 1e3 * t_native,
                     "reference_ms": 1e3 * t_ref, "speedup": t_ref / t_native})
    return rows


def training_row(steps: int) -> dict:
    from vaecore.datasets import load
    from vaecore.models import build_model

    ds = load("dsprites")
    model = build_model("beta-vae", observation_shape=ds.observation_shape, latent_dim=10,
                        architecture="conv", likelihood="bernoulli", beta=4.0).cuda()
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    rng = np.random.default_rng(0)
    render_s = 0.0
    t0 = time.perf_counter()
    for _ in range(steps):
        r0 = time.perf_counter()
        idx = rng.integers(0, len(ds), size=64)
        x = torch.from_numpy(np.ascontiguousarray(ds.observations_at(np.sort(idx))))
        render_s += time.perf_counter() - r0
        x = x.cuda(non_blocking=True)
        mu, logvar = model.encode(x)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        out = model.decode(z)
        rec = model.reconstruction(x, out).mean()
        kl = (0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar)).sum(1).mean()
        loss = rec + 4.0 * kl
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    torch.cuda.synchronize()
    wall = time.perf_counter() - t0
    return {"what": f"conv beta-VAE, {steps} steps, batch 64", "steps_per_s": steps / wall,
            "render_ms_per_batch": 1e3 * render_s / steps, "step_ms": 1e3 * wall / steps,
            "renderer_share": render_s / wall}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    if not torch.cuda.is_available():
        raise SystemExit("gpu_check: torch sees no CUDA device")
    rows = full_cov_rows() + [training_row(args.steps)]
    print(f"\n## GPU check on {torch.cuda.get_device_name()}\n")
    for row in rows:
        print("| " + " | ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                                for k, v in row.items()) + " |")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(rows, fh, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

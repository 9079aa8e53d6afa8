#!/usr/bin/env python
"""Train the demo model: a tiny Stable Diffusion that draws coloured shapes (`worker.demo_model.shapes`).

Standard diffusers SD layout, loadable with `StableDiffusionPipeline.from_pretrained` like SD 1.5:
  1. AutoencoderKL (4 latent channels) trained on drawn 64x64 images (L1 + MSE + a small KL term); its
     `scaling_factor` is set to 1 / std of the data set's latents, as SD's 0.18215 was.
  2. The data set's latents and token ids are precomputed once.
  3. UNet2DConditionModel (epsilon prediction) + CLIPTextModel trained jointly with DDPM noise on SD 1.x's
     scaled_linear betas (0.00085..0.012, 1000 steps); captions dropped to "" 10% of the time for
     classifier-free guidance; plain epsilon MSE over uniform t (SD's L_simple; --loss-weighting min-snr for
     min-SNR-5); EMA weights are the ones saved.
  4. Saved with save_pretrained (safetensors) plus SD 1.5's scheduler config verbatim, schedlab-model.json
     and a README.md model card; then sampled and scored with the checker.

Deterministic from --seed for a given thread count (float reductions may differ between thread counts).
    .venv/bin/python scripts/train_demo_model.py --threads 2
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from worker.demo_model import DEMO_MODEL_ID, DEMO_MODEL_VERSION, checker, shapes  # noqa: E402  # noqa: E402
from worker.pipeline_files import SD15_SCHEDULER_CONFIG, save_pipeline, sd15_pipeline  # noqa: E402
from worker.tiny_model import write_clip_tokenizer_files  # noqa: E402


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# GroupNorm removes each group's mean and scale per image: with 2 channels a group (16 channels, 8 groups) a
# flat colour's absolute value cannot pass, and on continuous colours the VAE learned them slowly (colour on
# reconstructions after 600 steps: 13% with 8 groups, 39% with 4, 42% with 1).
VAE_NORM_GROUPS = 4


def build_vae(downscale: int):
    from diffusers import AutoencoderKL

    channels = {4: (16, 32, 64), 8: (16, 32, 64, 64)}[downscale]
    return AutoencoderKL(
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * len(channels),
        up_block_types=("UpDecoderBlock2D",) * len(channels),
        block_out_channels=channels,
        layers_per_block=1,
        latent_channels=4,
        norm_num_groups=VAE_NORM_GROUPS,
        sample_size=shapes.IMAGE_SIZE,
    )


def build_unet(latent_size: int, width: int, cross_dim: int):
    from diffusers import UNet2DConditionModel

    return UNet2DConditionModel(
        sample_size=latent_size,
        in_channels=4,
        out_channels=4,
        layers_per_block=1,
        block_out_channels=(width, 2 * width, 2 * width),
        down_block_types=("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"),
        cross_attention_dim=cross_dim,
        attention_head_dim=8,
        norm_num_groups=8,
    )


def build_text_encoder(tokenizer, hidden: int):
    from transformers import CLIPTextConfig, CLIPTextModel

    return CLIPTextModel(
        CLIPTextConfig(
            vocab_size=len(tokenizer),
            hidden_size=hidden,
            intermediate_size=2 * hidden,
            num_hidden_layers=2,
            num_attention_heads=4,
            max_position_embeddings=tokenizer.model_max_length,
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
        )
    )


def to_tensor(images: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(images).permute(0, 3, 1, 2).float().div(127.5).sub(1.0)


def lr_at(step: int, total: int, peak: float, warmup: int) -> float:
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(total - warmup, 1)
    return peak * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * progress)))


def train_vae(args, vae, log_every: int) -> dict[str, float]:
    generator = torch.Generator().manual_seed(args.seed + 11)
    optimizer = torch.optim.AdamW(vae.parameters(), lr=args.vae_lr, weight_decay=0.0)
    vae.train()
    history: dict[str, float] = {}
    running = 0.0
    held_out, held_captions, _ = shapes.dataset(args.seed + 99_991, 200)
    for step in range(args.vae_steps):
        images, _, _ = shapes.dataset(args.seed * 1_000_003 + 7 + step, args.vae_batch)
        x = to_tensor(images)
        posterior = vae.encode(x).latent_dist
        z = posterior.mean + posterior.std * torch.randn(posterior.mean.shape, generator=generator)
        # Latent jitter (see --latent-jitter): the decoder learns to ignore latent noise of that relative size.
        jitter = args.latent_jitter * posterior.mean.detach().std()
        z = z + jitter * torch.randn(posterior.mean.shape, generator=generator)
        recon = vae.decode(z).sample
        rec = F.l1_loss(recon, x) + F.mse_loss(recon, x)
        kl = posterior.kl().mean() / z[0].numel()
        loss = rec + args.vae_kl * kl
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step, args.vae_steps, args.vae_lr, 50)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(vae.parameters(), 1.0)
        optimizer.step()
        running += rec.item()
        if (step + 1) % log_every == 0 or step + 1 == args.vae_steps:
            extra = ""
            if args.vae_eval_every and ((step + 1) % args.vae_eval_every == 0 or step + 1 == args.vae_steps):
                vae.eval()
                recon = vae_reconstruction_check(vae, held_out, held_captions)
                vae.train()
                extra = (
                    f" checker on reconstructions: colour {recon['colour_match']:.3f} shape {recon['shape_match']:.3f}"
                )
            log(f"vae step {step + 1}/{args.vae_steps} recon {running / log_every:.4f} kl/dim {kl.item():.3f}{extra}")
            history[f"vae_recon@{step + 1}"] = running / log_every
            running = 0.0
    vae.eval()
    return history


@torch.no_grad()
def encode_dataset(args, vae, tokenizer):
    means, stds, ids = [], [], []
    images_all, captions, _ = shapes.dataset(args.seed * 7919 + 3, args.dataset_size)
    for start in range(0, args.dataset_size, 256):
        posterior = vae.encode(to_tensor(images_all[start : start + 256])).latent_dist
        means.append(posterior.mean)
        stds.append(posterior.std)
    ids = tokenizer(
        captions,
        padding="max_length",
        max_length=tokenizer.model_max_length,
        truncation=True,
        return_tensors="pt",
    ).input_ids
    mean, std = torch.cat(means), torch.cat(stds)
    return mean, std, ids, images_all, captions


@torch.no_grad()
def vae_reconstruction_check(vae, images: np.ndarray, captions: list[str]) -> dict[str, float]:
    recon = vae.decode(vae.encode(to_tensor(images)).latent_dist.mean).sample
    recon_u8 = ((recon.clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).numpy()
    return checker.score(list(recon_u8), captions)


class EMA:
    def __init__(self, modules: list[torch.nn.Module], decay: float):
        self.params = [p for m in modules for p in m.parameters()]
        self.shadow = [p.detach().clone() for p in self.params]
        self.decay = decay

    @torch.no_grad()
    def update(self, step: int) -> None:
        decay = min(self.decay, (1 + step) / (10 + step))
        for s, p in zip(self.shadow, self.params, strict=True):
            s.lerp_(p.detach(), 1 - decay)

    @torch.no_grad()
    def copy_to_model(self) -> None:
        for s, p in zip(self.shadow, self.params, strict=True):
            p.copy_(s)

    @torch.no_grad()
    def swap(self) -> None:
        """Exchange the live and the EMA weights (twice restores them)."""
        for s, p in zip(self.shadow, self.params, strict=True):
            live = p.detach().clone()
            p.copy_(s)
            s.copy_(live)


def train_unet(args, unet, text_encoder, latents_mean, latents_std, ids, empty_ids, scale, log_every, make_pipe=None):
    from diffusers import DDPMScheduler

    noise_scheduler = DDPMScheduler.from_config(SD15_SCHEDULER_CONFIG)
    alphas_cumprod = noise_scheduler.alphas_cumprod
    snr = alphas_cumprod / (1 - alphas_cumprod)
    if args.loss_weighting == "min-snr":
        weights = torch.clamp(snr, max=args.min_snr_gamma) / snr  # min-SNR weighting for epsilon prediction
    else:
        weights = torch.ones_like(snr)  # L_simple: plain epsilon MSE, t uniform, as SD was trained
    generator = torch.Generator().manual_seed(args.seed + 23)
    params = list(unet.parameters()) + list(text_encoder.parameters())
    optimizer = torch.optim.AdamW(params, lr=args.unet_lr, weight_decay=1e-4)
    ema = EMA([unet, text_encoder], args.ema_decay)
    unet.train()
    text_encoder.train()
    history: dict[str, float] = {}
    running = 0.0
    count = latents_mean.shape[0]
    for step in range(args.unet_steps):
        index = torch.randint(0, count, (args.unet_batch,), generator=generator)
        z0 = (
            latents_mean[index] + latents_std[index] * torch.randn(latents_mean[index].shape, generator=generator)
        ) * scale
        # Scaled latents have std 1; jitter of std `latent_jitter` makes the data full-dimensional at that scale.
        z0 = z0 + args.latent_jitter * torch.randn(z0.shape, generator=generator)
        noise = torch.randn(z0.shape, generator=generator)
        t = torch.randint(0, noise_scheduler.config.num_train_timesteps, (args.unet_batch,), generator=generator)
        noisy = noise_scheduler.add_noise(z0, noise, t)
        batch_ids = ids[index].clone()
        drop = torch.rand(args.unet_batch, generator=generator) < args.caption_dropout
        batch_ids[drop] = empty_ids
        hidden = text_encoder(batch_ids)[0]
        pred = unet(noisy, t, encoder_hidden_states=hidden).sample
        loss = (((pred - noise) ** 2).mean(dim=(1, 2, 3)) * weights[t]).mean()
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step, args.unet_steps, args.unet_lr, 200)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        ema.update(step)
        running += loss.item()
        if (step + 1) % log_every == 0 or step + 1 == args.unet_steps:
            n = log_every if (step + 1) % log_every == 0 else (step + 1) % log_every
            log(
                f"unet step {step + 1}/{args.unet_steps} loss {running / n:.4f}"
                f" lr {optimizer.param_groups[0]['lr']:.2e}"
            )
            history[f"unet_loss@{step + 1}"] = running / n
            running = 0.0
        if make_pipe and args.unet_eval_every and (step + 1) % args.unet_eval_every == 0 and step + 1 < args.unet_steps:
            ema.swap()
            unet.eval()
            text_encoder.eval()
            score, _, _ = evaluate(make_pipe(), eval_prompts(), [0], 20, args.eval_guidance, batch=48)
            # LMS at 30 steps and guidance 7.5 is the first sampler to fail on a stiff model: watch it train.
            lms, _, _ = evaluate(make_pipe(), eval_prompts(), [0], 30, 7.5, batch=48, scheduler="LMSDiscreteScheduler")
            log(
                f"  EMA weights, 48 prompts: DPMSolverMultistep 20 steps colour {score['colour_match']:.3f} "
                f"shape {score['shape_match']:.3f}; LMS 30 steps guidance 7.5 colour {lms['colour_match']:.3f}"
                f" shape {lms['shape_match']:.3f}"
            )
            history[f"eval_colour@{step + 1}"] = score["colour_match"]
            history[f"eval_shape@{step + 1}"] = score["shape_match"]
            history[f"eval_lms_colour@{step + 1}"] = lms["colour_match"]
            history[f"eval_lms_shape@{step + 1}"] = lms["shape_match"]
            ema.swap()
            unet.train()
            text_encoder.train()
    ema.copy_to_model()
    unet.eval()
    text_encoder.eval()
    return history


def eval_prompts() -> list[str]:
    return [shapes.caption(*combo) for combo in shapes.all_combinations()]


def evaluate(
    pipe,
    prompts: list[str],
    seeds: list[int],
    steps: int,
    guidance: float,
    batch: int = 16,
    scheduler: str = "DPMSolverMultistepScheduler",
):
    import diffusers

    pipe.scheduler = getattr(diffusers, scheduler).from_config(pipe.scheduler.config)
    pipe.set_progress_bar_config(disable=True)
    images, texts = [], []
    jobs = [(p, s) for s in seeds for p in prompts]
    for start in range(0, len(jobs), batch):
        chunk = jobs[start : start + batch]
        generators = [torch.Generator().manual_seed(s * 1000 + i + start) for i, (_, s) in enumerate(chunk)]
        out = pipe(
            [p for p, _ in chunk],
            num_inference_steps=steps,
            guidance_scale=guidance,
            generator=generators,
            output_type="np",
        ).images
        images += list(out)
        texts += [p for p, _ in chunk]
    return checker.score(images, texts), images, texts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=REPO / "models" / "shapes-sd")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="torch CPU threads")
    parser.add_argument("--vae-downscale", type=int, choices=(4, 8), default=8)
    parser.add_argument("--vae-steps", type=int, default=2500)
    parser.add_argument("--vae-batch", type=int, default=16)
    parser.add_argument("--vae-lr", type=float, default=2e-3)
    parser.add_argument("--vae-kl", type=float, default=1e-4, help="KL weight (per latent dim)")
    parser.add_argument("--vae-from", type=Path, help="reuse a trained VAE (a model dir or its vae/ folder)")
    parser.add_argument("--vae-init-logvar", type=float, default=-8.0, help="initial posterior log-variance")
    parser.add_argument("--vae-eval-every", type=int, default=200, help="score reconstructions every N steps")
    parser.add_argument("--vae-only", action="store_true", help="train and save the VAE (under --out/vae), stop")
    parser.add_argument("--dataset-size", type=int, default=20000)
    parser.add_argument("--unet-width", type=int, default=32)
    parser.add_argument("--text-hidden", type=int, default=32)
    parser.add_argument("--unet-steps", type=int, default=5000)
    parser.add_argument("--unet-batch", type=int, default=64)
    parser.add_argument("--unet-lr", type=float, default=1e-3)
    parser.add_argument("--ema-decay", type=float, default=0.999)
    parser.add_argument("--caption-dropout", type=float, default=0.1)
    parser.add_argument(
        "--latent-jitter",
        type=float,
        default=0.0,
        help="Gaussian noise (in units of the latents' std) added to latents when training the VAE decoder and the"
        " UNet: below this noise level the ideal denoiser no longer projects onto a thin data manifold, so the ODE"
        " is not stiff at the last steps and linear multistep samplers (LMS, PNDM) stay stable",
    )
    parser.add_argument("--min-snr-gamma", type=float, default=5.0)
    parser.add_argument(
        "--loss-weighting",
        choices=("min-snr", "uniform"),
        default="uniform",
        help="uniform: plain epsilon MSE over uniform t, as SD was trained; min-snr: min(SNR, gamma) / SNR",
    )
    parser.add_argument("--unet-eval-every", type=int, default=1000, help="score samples every N steps (0: never)")
    parser.add_argument("--eval-steps", type=int, default=30)
    parser.add_argument("--eval-guidance", type=float, default=6.0)
    parser.add_argument("--eval-seeds", type=int, default=2, help="seeds per prompt in the final evaluation")
    parser.add_argument(
        "--rescore",
        action="store_true",
        help="train nothing: score the model in --out again with the current checker, rewrite its card",
    )
    parser.add_argument(
        "--card-only",
        action="store_true",
        help="train nothing: measure the model in --out for stiffness, rewrite its card (see --previous, --note)",
    )
    parser.add_argument("--previous", type=Path, help="with --card-only: an earlier model to measure for comparison")
    parser.add_argument("--previous-label", help="with --previous: how the card names it")
    parser.add_argument("--note", help="with --card-only: how the machine was shared during training")
    parser.add_argument("--log-every", type=int, default=100)
    args = parser.parse_args(argv)

    torch.set_num_threads(args.threads)
    if args.rescore:
        return rescore(args)
    if args.card_only:
        return card_only(args)
    torch.manual_seed(args.seed)
    started = time.time()
    load_at_start = os.getloadavg()
    timings: dict[str, float] = {}
    from diffusers import AutoencoderKL
    from transformers import CLIPTokenizer

    tokenizer_src = Path(tempfile.mkdtemp(prefix="shapes-tokenizer-"))
    write_clip_tokenizer_files(tokenizer_src, shapes.vocabulary())
    tokenizer = CLIPTokenizer(str(tokenizer_src / "vocab.json"), str(tokenizer_src / "merges.txt"), model_max_length=77)
    shutil.rmtree(tokenizer_src)

    # 1. VAE
    history: dict[str, float] = {}
    vae_training = None
    if args.vae_from:
        vae_dir = args.vae_from / "vae" if (args.vae_from / "vae").is_dir() else args.vae_from
        vae = AutoencoderKL.from_pretrained(vae_dir)
        log(f"VAE loaded from {vae_dir}")
        vae_meta_file = vae_dir / "schedlab-vae-training.json"
        vae_training = json.loads(vae_meta_file.read_text()) if vae_meta_file.exists() else None
        if vae_training:
            history.update(vae_training["losses"])
            timings["vae_s"] = vae_training["seconds"]
    else:
        torch.manual_seed(args.seed + 1)
        vae = build_vae(args.vae_downscale)
        with torch.no_grad():
            # Start the posterior narrow (std ~ e^-4): with a small KL weight that is where it ends anyway,
            # and from std ~ 1 the decoder first has to learn to see past the sampling noise (slow on a CPU).
            vae.quant_conv.bias[vae.config.latent_channels :].fill_(args.vae_init_logvar)
        log(f"VAE: {sum(p.numel() for p in vae.parameters()) / 1e6:.2f} M parameters, downscale {args.vae_downscale}")
        history.update(train_vae(args, vae, args.log_every))
    vae.eval()
    for p in vae.parameters():
        p.requires_grad_(False)
    timings.setdefault("vae_s", time.time() - started)
    vae_meta_name = "schedlab-vae-training.json"
    if args.vae_only:
        (args.out / "vae").mkdir(parents=True, exist_ok=True)
        vae.save_pretrained(args.out / "vae", safe_serialization=True)
        command = "python scripts/train_demo_model.py " + " ".join(argv if argv is not None else sys.argv[1:])
        (args.out / "vae" / vae_meta_name).write_text(
            json.dumps(
                {
                    "command": command.strip(),
                    "losses": history,
                    "seconds": round(timings["vae_s"], 1),
                    "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
                },
                indent=2,
            )
            + "\n"
        )
        log(f"VAE saved to {args.out / 'vae'} after {timings['vae_s']:.0f} s")
        return 0

    # 2. Precompute latents and token ids.
    mark = time.time()
    mean, std, ids, images_all, captions = encode_dataset(args, vae, tokenizer)
    scale = float(1.0 / mean.std())
    vae.register_to_config(scaling_factor=scale)
    recon_score = vae_reconstruction_check(vae, images_all[:500], captions[:500])
    log(f"latents {tuple(mean.shape)}, scaling_factor {scale:.4f}, VAE reconstructions scored {recon_score}")
    empty_ids = tokenizer(
        "", padding="max_length", max_length=tokenizer.model_max_length, return_tensors="pt"
    ).input_ids[0]
    timings["encode_s"] = time.time() - mark

    # 3. UNet + text encoder
    mark = time.time()
    latent_size = shapes.IMAGE_SIZE // (2 ** (len(vae.config.block_out_channels) - 1))
    torch.manual_seed(args.seed + 2)
    text_encoder = build_text_encoder(tokenizer, args.text_hidden)
    torch.manual_seed(args.seed + 3)
    unet = build_unet(latent_size, args.unet_width, args.text_hidden)
    log(
        f"UNet: {sum(p.numel() for p in unet.parameters()) / 1e6:.2f} M parameters"
        f" on {latent_size}x{latent_size}"
        f" latents; text encoder {sum(p.numel() for p in text_encoder.parameters()) / 1e6:.2f} M"
    )

    def make_pipe():
        return sd15_pipeline(unet, vae, text_encoder, tokenizer)

    history.update(train_unet(args, unet, text_encoder, mean, std, ids, empty_ids, scale, args.log_every, make_pipe))
    timings["unet_s"] = time.time() - mark
    timings["train_total_s"] = timings["vae_s"] + timings["encode_s"] + timings["unet_s"]

    # 4. Save, reload through from_pretrained, evaluate.
    from diffusers import StableDiffusionPipeline

    args.out.mkdir(parents=True, exist_ok=True)
    save_pipeline(make_pipe(), args.out, SD15_SCHEDULER_CONFIG)
    pipe = StableDiffusionPipeline.from_pretrained(args.out)
    mark = time.time()
    prompts = eval_prompts()
    evaluation, _, _ = evaluate(pipe, prompts, list(range(args.eval_seeds)), args.eval_steps, args.eval_guidance)
    timings["eval_s"] = time.time() - mark
    log(
        f"evaluation (DPMSolverMultistep, {args.eval_steps} steps, guidance {args.eval_guidance}, "
        f"{len(prompts)} prompts x {args.eval_seeds} seeds): {evaluation}"
    )

    mark = time.time()
    stiff = stiffness_with_and_without_guidance(pipe)
    timings["stiffness_s"] = time.time() - mark
    log(f"stiffness along the path (guidance 7.5): {stiff['max_h_lambda']:.3f}")

    weights = sum(f.stat().st_size for f in args.out.rglob("*.safetensors"))
    command = "python scripts/train_demo_model.py " + " ".join(argv if argv is not None else sys.argv[1:])
    meta = {
        "model_id": DEMO_MODEL_ID,
        "version": DEMO_MODEL_VERSION,
        "seed": args.seed,
        "image_size": shapes.IMAGE_SIZE,
        "latent_size": latent_size,
        "scaling_factor": scale,
        "command": command.strip(),
        "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items() if k != "out"},
        "losses": history,
        "vae_training": vae_training,
        "vae_reconstruction_check": recon_score,
        "stiffness": stiff,
        "evaluation": {
            "scheduler": "DPMSolverMultistepScheduler",
            "steps": args.eval_steps,
            "guidance_scale": args.eval_guidance,
            "prompts": len(prompts),
            "seeds_per_prompt": args.eval_seeds,
            **evaluation,
        },
        "timings_s": {k: round(v, 1) for k, v in timings.items()},
        "wall_s": round(time.time() - started, 1),
        "load_average": {"start": list(load_at_start), "end": list(os.getloadavg())},
        "weights_bytes": weights,
        "torch": torch.__version__,
        "threads": args.threads,
        "machine": platform.machine(),
        "vocabulary": shapes.vocabulary(),
    }
    (args.out / "schedlab-model.json").write_text(json.dumps(meta, indent=2) + "\n")
    (args.out / "README.md").write_text(model_card(meta))
    log(f"saved to {args.out} ({weights / 1e6:.2f} MB of weights) in {time.time() - started:.0f} s")
    return 0


@torch.no_grad()
def stiffness(pipe, guidance: float = 7.5, steps: int = 30, last_steps: int = 10, iterations: int = 8) -> dict:
    """How stiff the guided sampling ODE is along the path: per step, step size x the Jacobian's largest gain.

    Along Euler's path (SD 1.5's scheduler config, `steps` steps), at each sigma the guided noise prediction's
    Jacobian in x is probed by power iteration on finite differences (`iterations` products): its largest gain
    lambda, times the step (sigma_i - sigma_i+1), is the quantity whose size decides whether an explicit
    multistep method is stable (order 4 Adams-Bashforth: below ~0.3 on the negative real axis). A random
    direction alone would miss the few directions, such as the background's brightness, in which guidance
    amplifies the gain.
    """
    from diffusers import EulerDiscreteScheduler

    scheduler = EulerDiscreteScheduler.from_config(pipe.scheduler.config)
    scheduler.set_timesteps(steps)
    combos = shapes.all_combinations()
    prompts = [shapes.caption(*combo) for combo in combos[::6]]
    cond, uncond = pipe.encode_prompt(prompts, "cpu", 1, True)
    context = torch.cat([uncond, cond])
    x = torch.randn((len(prompts), 4, *[pipe.unet.config.sample_size] * 2), generator=torch.Generator().manual_seed(0))
    x = x * scheduler.init_noise_sigma

    def guided(sample: torch.Tensor, t: torch.Tensor, sigma: float) -> torch.Tensor:
        model_input = torch.cat([sample, sample]) / (sigma**2 + 1) ** 0.5
        uncond_eps, cond_eps = pipe.unet(model_input, t, encoder_hidden_states=context).sample.chunk(2)
        return uncond_eps + guidance * (cond_eps - uncond_eps)

    def unit(v: torch.Tensor) -> torch.Tensor:
        return v / v.flatten(1).norm(dim=1).view(-1, 1, 1, 1)

    values = []
    for i, t in enumerate(scheduler.timesteps):
        sigma, sigma_next = float(scheduler.sigmas[i]), float(scheduler.sigmas[i + 1])
        eps = guided(x, t, sigma)
        probe = 1e-2 * max(sigma, 0.05)
        direction = unit(torch.randn(x.shape, generator=torch.Generator().manual_seed(i)))
        for _ in range(iterations):
            product = (guided(x + probe * direction, t, sigma) - eps) / probe
            gain = product.flatten(1).norm(dim=1)
            direction = unit(product)
        values.append((sigma - sigma_next) * float(gain.max()))
        x = x + (sigma_next - sigma) * eps
    return {
        "how": (
            f"guided eps along Euler's {steps}-step path, guidance {guidance}, {len(prompts)} prompts, largest"
            f" Jacobian gain by {iterations} power iterations"
        ),
        "last_steps": last_steps,
        "max_h_lambda": max(values),
        "max_h_lambda_last_steps": max(values[-last_steps:]),
        "median_h_lambda": float(np.median(values)),
        "h_lambda": [round(v, 4) for v in values],
    }


def stiffness_with_and_without_guidance(pipe) -> dict:
    """`stiffness` at guidance 7.5, with the unguided (1.0) maximum and median beside it: what guidance adds."""
    guided, unguided = stiffness(pipe), stiffness(pipe, guidance=1.0)
    return guided | {
        "unguided_max_h_lambda": unguided["max_h_lambda"],
        "unguided_median_h_lambda": unguided["median_h_lambda"],
    }


def card_only(args: argparse.Namespace) -> int:
    """Train nothing: measure the saved model's stiffness (and --previous's), add --note, rewrite its card."""
    from diffusers import StableDiffusionPipeline

    meta = json.loads((args.out / "schedlab-model.json").read_text())
    meta["stiffness"] = stiffness_with_and_without_guidance(StableDiffusionPipeline.from_pretrained(args.out))
    if args.previous:
        previous = StableDiffusionPipeline.from_pretrained(args.previous)
        meta["stiffness"]["previous"] = stiffness(previous)["max_h_lambda"]
        meta["stiffness"]["previous_label"] = args.previous_label or str(args.previous)
    if args.note:
        meta["priority_note"] = args.note
    log(f"stiffness {meta['stiffness']}")
    (args.out / "schedlab-model.json").write_text(json.dumps(meta, indent=2) + "\n")
    (args.out / "README.md").write_text(model_card(meta))
    return 0


def rescore(args: argparse.Namespace) -> int:
    """Score the saved model again (after a checker change) and rewrite schedlab-model.json and README.md."""
    from diffusers import StableDiffusionPipeline

    meta = json.loads((args.out / "schedlab-model.json").read_text())
    pipe = StableDiffusionPipeline.from_pretrained(args.out)
    images_all, captions, _ = shapes.dataset(meta["seed"] * 7919 + 3, 500)
    meta["vae_reconstruction_check"] = vae_reconstruction_check(pipe.vae, images_all, captions)
    prompts = eval_prompts()
    evaluation, _, _ = evaluate(pipe, prompts, list(range(args.eval_seeds)), args.eval_steps, args.eval_guidance)
    meta["evaluation"] = {
        "scheduler": "DPMSolverMultistepScheduler",
        "steps": args.eval_steps,
        "guidance_scale": args.eval_guidance,
        "prompts": len(prompts),
        "seeds_per_prompt": args.eval_seeds,
        **evaluation,
    }
    log(f"rescored: reconstructions {meta['vae_reconstruction_check']}, samples {evaluation}")
    (args.out / "schedlab-model.json").write_text(json.dumps(meta, indent=2) + "\n")
    (args.out / "README.md").write_text(model_card(meta))
    return 0


def model_card(meta: dict) -> str:
    losses = meta["losses"]
    vae_keys = [k for k in losses if k.startswith("vae")]
    unet_keys = [k for k in losses if k.startswith("unet")]
    ev = meta["evaluation"]
    t = meta["timings_s"]
    a = meta["args"]
    va = (meta.get("vae_training") or {}).get("args") or a
    vae_command = (meta.get("vae_training") or {}).get("command")
    vae_how = (
        f"trained first by `{vae_command}`, then reused by the command above via `--vae-from`; " if vae_command else ""
    )
    loss_rows = "\n".join(
        f"| {k} | {losses[k]:.4f} |"
        for k in dict.fromkeys(
            vae_keys[:1]
            + vae_keys[-1:]
            + unet_keys[:1]
            + unet_keys[len(unet_keys) // 2 : len(unet_keys) // 2 + 1]
            + unet_keys[-1:]
        )
    )
    recon = meta["vae_reconstruction_check"]

    def scored_at(step: str) -> str:
        lms = (
            f" (LMS, 30 steps, guidance 7.5: {losses[f'eval_lms_colour@{step}']:.1%},"
            f" {losses[f'eval_lms_shape@{step}']:.1%})"
            if f"eval_lms_colour@{step}" in losses
            else ""
        )
        colour, shape = losses[f"eval_colour@{step}"], losses[f"eval_shape@{step}"]
        return f"after {step} steps colour {colour:.1%}, shape {shape:.1%}{lms}"

    evals = [scored_at(k.split("@")[1]) for k in losses if k.startswith("eval_colour@")]

    weighting = (
        f"min-SNR-{a['min_snr_gamma']:g} weighting"
        if a.get("loss_weighting", "min-snr") == "min-snr"
        else "plain epsilon MSE with t uniform (SD's L_simple: no noise level down-weighted)"
    )
    jitter = float(a.get("latent_jitter", 0.0))
    load = meta.get("load_average")
    stiff = meta.get("stiffness")
    stiff_text = (
        "Stiffness, which decides whether 4th-order linear multistep samplers (LMS, PNDM) stay"
        f" stable ({stiff['how']}): the largest step x gain along the path is {stiff['max_h_lambda']:.2f}"
        + (
            f" (median over the steps {stiff['median_h_lambda']:.2f}); without guidance (1.0)"
            f" {stiff['unguided_max_h_lambda']:.2f} (median {stiff['unguided_median_h_lambda']:.2f})"
            if stiff.get("unguided_median_h_lambda") is not None
            else ""
        )
        + (
            f" ({stiff['previous']:.2f} for {stiff.get('previous_label', 'the model compared')})"
            if stiff.get("previous") is not None
            else ""
        )
        + "; linear multistep methods of order 4 stay stable below ~0.3."
        if stiff
        else ""
    )

    def para(text: str, bullet: bool = False) -> str:
        return textwrap.fill(text, 110, initial_indent="- " if bullet else "", subsequent_indent="  " * bullet)

    return "\n".join(
        [
            "# shapes-sd: a tiny Stable Diffusion that draws coloured shapes",
            "",
            para(
                f"`{meta['model_id']}` version {meta['version']}, schedlab's demo model. Standard"
                " diffusers Stable"
                " Diffusion layout (`AutoencoderKL`, `UNet2DConditionModel`, `CLIPTextModel` +"
                " `CLIPTokenizer`,"
                " SD 1.5's PNDM scheduler config), so"
                ' `StableDiffusionPipeline.from_pretrained("models/shapes-sd")`'
                " loads it like SD 1.5 and every SD 1.x scheduler applies unchanged: epsilon prediction,"
                " scaled_linear betas 0.00085..0.012, 1000 training timesteps."
            ),
            "",
            "## What it draws",
            "",
            para(
                f"{meta['image_size']}x{meta['image_size']} RGB images"
                f" ({meta['latent_size']}x{meta['latent_size']}x4"
                f" latents) of one flat shape ({', '.join(shapes.SHAPES)}) in one of"
                f" {', '.join(shapes.SHAPE_COLOURS)}, on a {', '.join(shapes.BACKGROUNDS)}"
                " background (never the"
                f" shape's own colour), at a random size ({shapes.MIN_SIZE}-{shapes.MAX_SIZE} px)"
                " and position. Colours are drawn around their names, not on them: each channel of the shape's"
                f' colour up to {shapes.COLOUR_JITTER} away (so "red" runs from dark red to pink), always'
                f" {shapes.COLOUR_MARGIN:g} nearer to its own name than to any other; the background's grey level up"
                f" to {shapes.BACKGROUND_JITTER} away; shape and background at least {shapes.MIN_CONTRAST:g} apart"
                " (RGB distance). Nearly a continuum between colours, as natural images are: exact colours made"
                " the unconditional prediction switch abruptly between them, which guidance amplified into a"
                " stiff sampling ODE (version 1)."
                " Prompts look like `a red circle on a black background`. Each word of the vocabulary"
                f" ({', '.join(meta['vocabulary'])}) is one token; other words split into"
                " characters the model"
                " never saw."
            ),
            "",
            "## How it was made",
            "",
            para(
                "Data: `worker/demo_model/shapes.py`, drawn on the fly from the seed (numpy RNG + PIL); no data files.",
                True,
            ),
            para(
                f"Command (seed {meta['seed']}, {meta['threads']} CPU thread(s), torch {meta['torch']},"
                f" {meta['machine']}; deterministic from the seed for a given thread count):",
                True,
            ),
            "",
            "  ```",
            f"  {meta['command']}",
            "  ```",
            "",
            para(
                f"VAE: {vae_how}{va['vae_steps']} steps x batch {va['vae_batch']}, AdamW lr {va['vae_lr']}"
                f" (warmup, cosine), loss L1 + MSE + {va['vae_kl']} x KL per latent dim, GroupNorm in"
                f" {VAE_NORM_GROUPS} groups (with 2 channels a group a flat colour's value could not pass it),"
                f" {va['vae_downscale']}x"
                " downscale (SD's is 8x); `scaling_factor` = 1 / std of the data set's latents"
                f" ({meta['scaling_factor']:.4f}). The checker on 500 reconstructions: colour"
                f" {recon['colour_match']:.1%}, shape {recon['shape_match']:.1%}.",
                True,
            ),
            para(
                f"UNet + text encoder, trained jointly from scratch: {a['unet_steps']} steps x batch"
                f" {a['unet_batch']} over {a['dataset_size']} precomputed latents, AdamW lr"
                f" {a['unet_lr']} (warmup,"
                f" cosine), DDPM noise on SD 1.x betas, {weighting}, captions dropped"
                f' to "" {a["caption_dropout"]:.0%} of the time for classifier-free guidance; the EMA'
                f" ({a['ema_decay']}) weights are saved."
                + (f" Samples scored during training (20 steps, 48 images): {'; '.join(evals)}." if evals else ""),
                True,
            ),
            *(
                [
                    para(
                        f"Latent jitter {jitter:g}: Gaussian noise of {jitter:g} x the latents' std is added to every"
                        " latent the decoder and the UNet train on, so that the data set is full-dimensional below"
                        " that noise level, as SD's latents of natural images are.",
                        True,
                    )
                ]
                if jitter
                else []
            ),
            *([para(stiff_text, True)] if stiff_text else []),
            para(
                f"Time: VAE {t['vae_s']:.0f} s, precompute {t['encode_s']:.0f} s, UNet {t['unet_s']:.0f} s;"
                f" training {t['train_total_s'] / 60:.1f} min"
                + (f", {meta['wall_s'] / 60:.1f} min wall clock with the final evaluation" if "wall_s" in meta else "")
                + (
                    f" on a 2-core machine shared with other work (load average {load['start'][0]:.1f} at the start,"
                    f" {load['end'][0]:.1f} at the end"
                    + (f"; {meta['priority_note']})" if meta.get("priority_note") else ")")
                    if load
                    else ""
                )
                + f". Weights: {meta['weights_bytes'] / 1e6:.2f} MB (safetensors, fp32).",
                True,
            ),
            "",
            f"| loss (mean over the last {a['log_every']} steps) | value |",
            "|---|---|",
            loss_rows,
            "",
            "Every logged loss is in `schedlab-model.json`.",
            "",
            "## Measured quality",
            "",
            para(
                "`worker/demo_model/checker.py` (no learned model) recovers the shape's colour and"
                " kind from each"
                f" image. With {ev['scheduler']}, {ev['steps']} steps, guidance {ev['guidance_scale']}, all"
                f" {ev['prompts']} prompts x {ev['seeds_per_prompt']} seeds ({int(ev['n'])}"
                " images): colour matches"
                f" in {ev['colour_match']:.1%}, shape in {ev['shape_match']:.1%}, both in {ev['match']:.1%},"
                f" background in {ev['background_match']:.1%} (chance: colour {ev.get('colour_chance', 0):.1%},"
                f" shape {ev.get('shape_chance', 0):.1%}). Every scheduler and preset at 10-50 steps:"
                " `benchmarks/quality_sweep.py`, the quality table in the repository's README."
            ),
            "",
        ]
    )


if __name__ == "__main__":
    raise SystemExit(main())

"""Write the gallery: examples/<name>.md for each seed question, and examples/README.md.

Each page is a plain-words answer followed by convcalc's own output for the commands that back
it (run in-process, from the repository root, exactly as a user would type them) and, where the
answer claims two computations are the same, a proof run on real arrays by the reference
executor. `tests/test_gallery.py` regenerates every page and fails if one drifted.

    python examples/_generators/gallery.py
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Page:
    name: str
    question: str
    answer: Callable[[], str]
    commands: list[str]
    proofs: list[Callable[[], str]] = field(default_factory=list)
    title: str = ""


def run(command: str) -> tuple[int, str]:
    """Run a `convcalc ...` command in-process; its output (stdout, then stderr) and exit code."""
    from convcalc.cli import cli

    args = command.split()[1:]
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        result = CliRunner().invoke(cli, args)
    finally:
        os.chdir(cwd)
    return result.exit_code, result.stdout + result.stderr


def _plan(path: str, variant: str | None = None, **sets: int):
    import convcalc

    loaded = convcalc.load(str(ROOT / path))
    model = loaded[variant] if variant else loaded
    return model.plan(**sets)


# --------------------------------------------------------------------------- proofs on real arrays


def _run_layer(layer, x, weights_per_step, rng):
    from convcalc import reference
    from convcalc.check import plain_fields

    current = [x] if not isinstance(x, list) else x
    for step, w in zip(layer.steps, weights_per_step):
        current = [reference.run(step.kind, plain_fields(step, current), current, rng, w).output]
    return current[0]


def proof_onehot() -> str:
    rng = np.random.default_rng(0)
    c1 = _plan("examples/onehot_conv1d_vs_conv2d.yaml", "conv1d", N=4).layers[0]
    c2 = _plan("examples/onehot_conv1d_vs_conv2d.yaml", "conv2d_1x3", N=4).layers[0]
    x = np.eye(21, dtype=np.float32)[rng.integers(0, 21, size=(4, 1000))]  # one-hot sequences
    w = rng.standard_normal((1, 32, 21, 3)).astype(np.float32)
    b = rng.standard_normal(32).astype(np.float32)
    y1 = _run_layer(c1, x, [{"weight": w, "bias": b}], rng)
    y2 = _run_layer(c2, x[:, None], [{"weight": w[..., None, :], "bias": b}], rng)
    diff = float(np.abs(y1 - y2[:, 0]).max())
    return (f"Proof on real arrays (reference executor, 4 random one-hot sequences, the same 32 filters): Conv1D output "
            f"{y1.shape} and Conv2D (1, 3) output {y2.shape} are "
            f"{'equal (to within 1e-5)' if diff < 1e-5 else 'DIFFERENT'}.")


def proof_per_sample() -> str:
    rng = np.random.default_rng(0)
    full = _plan("examples/per_sample_convolution.yaml", "full", N=32).layers[0]
    trick = _plan("examples/per_sample_convolution.yaml", "grouped_trick", N=32)
    signal = rng.standard_normal((32, 2, 1)).astype(np.float32)
    kernels = rng.standard_normal((32, 3, 1)).astype(np.float32)
    y = _run_layer(full, [signal, kernels], [{}], rng)
    folded = signal.transpose(2, 1, 0)  # (1, L, N*M)
    padded = _run_layer(trick.layers[0], folded, [{}], rng)
    # The grouped conv's filters are the kernels: group n uses kernel n, shape (groups, 1, 1, K).
    w = kernels[:, :, 0].reshape(32, 1, 1, 3)
    z = _run_layer(trick.layers[1], padded, [{"weight": w}], rng)
    diff = float(np.abs(y[:, :, 0] - z[0].T).max())
    return (f"Proof on real arrays (reference executor, 32 random signals and kernels): PerSampleConv 'full' "
            f"{y.shape} and the grouped convolution over the folded batch {z.shape} (unfolded) are "
            f"{'equal (to within 1e-5)' if diff < 1e-5 else 'DIFFERENT'}; both perform "
            f"{full.macs:,} multiply-adds.")


def proof_transposed() -> str:
    rng = np.random.default_rng(0)
    t = _plan("examples/transposed_conv1d.yaml", "valid").layers[0]
    s = _plan("examples/transposed_conv1d.yaml", "stretched_conv")
    x = rng.standard_normal((1, 50, 4)).astype(np.float32)
    w = rng.standard_normal((4, 8, 3)).astype(np.float32)  # (C_in, C_out, k), transposed-conv layout
    b = np.zeros(8, np.float32)
    y = _run_layer(t, x, [{"weight": w, "bias": b}], rng)
    stretched = np.zeros((1, 99, 4), np.float32)
    stretched[:, ::2] = x
    padded = _run_layer(s.layers[0], stretched, [{}], rng)
    flipped = w.transpose(1, 0, 2)[:, :, ::-1][None]  # (1 group, C_out, C_in, k), kernel reversed
    z = _run_layer(s.layers[1], padded, [{"weight": np.ascontiguousarray(flipped), "bias": b}], rng)
    diff = float(np.abs(y - z).max())
    return (f"Proof on real arrays (reference executor): Conv1DTranspose(k=3, s=2) on 50 steps gives {y.shape}; a "
            f"Conv1D with the flipped kernel over the input stretched with one zero between samples (99 steps) and "
            f"padded by 2 gives {z.shape}; they are {'equal (to within 1e-5)' if diff < 1e-5 else 'DIFFERENT'}. "
            "`convcalc check` asserts the same relation for every "
            "transposed convolution it runs.")


UNET_BATCHES = (1, 2, 4, 8)
UNET_DEVICES_GIB = (16, 24, 40, 80)


def _unet_memory(batch: int) -> dict[str, int]:
    """The 'same' U-Net at 2048 x 2048: inference peaks and Adam training steps, float32 and AMP."""
    import convcalc
    from convcalc.memory import inference_peak, training_memory, with_batch

    plan = with_batch(convcalc.load(str(ROOT / "examples/unet_2048.yaml"))["same_padding"], batch).plan()
    weights = plan.totals.params * 4
    return {"inference": inference_peak(plan).bytes + weights, "inference_amp": inference_peak(plan, "cuda").bytes + weights,
            "training": training_memory(plan, "adam").total_bytes,
            "training_amp": training_memory(plan, "adam", "cuda").total_bytes,
            "saved": training_memory(plan, "adam").saved_activation_bytes}


def _unet_fits() -> dict[int, tuple[dict, dict]]:
    import convcalc
    from convcalc.memory import largest_batch

    model = convcalc.load(str(ROOT / "examples/unet_2048.yaml"))["same_padding"]
    return {g: (largest_batch(model, g * 2**30, "adam"), largest_batch(model, g * 2**30, "adam", amp="cuda"))
            for g in UNET_DEVICES_GIB}


def memory_table() -> str:
    from convcalc.report import human_bytes

    rows = ["| batch | inference float32 | inference AMP | training step, Adam, float32 | training step, Adam, AMP |",
            "|---:|---:|---:|---:|---:|"]
    for n in UNET_BATCHES:
        m = _unet_memory(n)
        rows.append(f"| {n} | {human_bytes(m['inference'])} | {human_bytes(m['inference_amp'])} | "
                    f"{human_bytes(m['training'])} | {human_bytes(m['training_amp'])} |")
    fits = ["| device memory | inference float32 | inference AMP | training, Adam, float32 | training, Adam, AMP |",
            "|---:|---:|---:|---:|---:|"]
    for g, (f32, amp) in _unet_fits().items():
        fits.append(f"| {g} GiB | {f32['inference'] or 'none'} | {amp['inference'] or 'none'} | "
                    f"{f32['training'] or 'none'} | {amp['training'] or 'none'} |")
    return ("Memory of the 'same' U-Net at 2048 x 2048 (`convcalc memory`, PyTorch's rules: inference = the peak of "
            "live activations plus the float32 weights; a training step = weights, gradients, Adam's two states and "
            "the activations saved for the backward pass; AMP = torch.autocast to float16 with float32 master "
            "weights):\n\n" + "\n".join(rows) + "\n\nThe largest batch that fits, solved from the closed form in "
            "the batch (`--device-memory`):\n\n" + "\n".join(fits) + "\n\nLeft out: the backward pass's own "
            "transient gradients, the allocator's rounding and cuDNN's workspaces, and the CUDA context (some "
            "hundreds of MiB): leave a margin. Keras on TensorFlow may fuse a `Conv2D` with its activation, which "
            "lowers the inference peak, not what training saves.")


# --------------------------------------------------------------------------- the answers


def answer_conv1d_on_images() -> str:
    p = _plan("examples/conv1d_on_images.yaml", "rows_and_columns")
    same = _plan("examples/conv1d_on_images.yaml", "same_padding")
    c2 = _plan("examples/conv1d_on_images.yaml", "conv2d")
    h = p.layer("horizontal")
    return (
        "Yes, under tf.keras: `Conv1D` accepts the 4-D batch (20, 100, 100, 3) as it is and treats the two leading "
        "axes as batch axes, so the kernel slides along each row; transposing with `Permute((2, 1, 3))` first "
        f"makes it slide along each column. Each branch gives {h.output_shape} (valid padding, 100 - 3 + 1 = 98), "
        "and the answer's code concatenates them on the channels — it works, but the second branch's axes are "
        "still swapped (rows and columns), so the two maps are not aligned pixel by pixel. Transposing the vertical "
        "branch back gives (20, 98, 100, 32), and `Concatenate` then fails: 100 vs 98. With `padding='same'` both "
        f"branches keep 100 x 100 and concatenate to {same.layers[-1].output_shape}. One `Conv2D(32, 3)` does "
        f"the job with {c2.totals.params:,} parameters and {c2.totals.macs / 1e6:,.0f} M MACs against "
        f"{same.totals.params:,} and {same.totals.macs / 1e6:,.0f} M for the two 1-D branches, and sees both "
        "directions at once. Keras 3 does not accept the 4-D input to `Conv1D` at all."
    )


def answer_conv3d_vs_conv2d() -> str:
    from convcalc.compare import compare
    from convcalc.report import ratio_text

    c = compare({"conv3d": _plan("examples/conv3d_vs_conv2d.yaml", "conv3d"),
                 "conv2d": _plan("examples/conv3d_vs_conv2d.yaml", "conv2d_time_as_channels")})
    return (
        f"Conv2D with the 16 time steps as channels needs {ratio_text(c.ratio('conv2d', 'macs'))} the MACs of "
        f"Conv3D, {ratio_text(c.ratio('conv2d', 'params'))} its parameters and "
        f"{ratio_text(c.ratio('conv2d', 'activation_bytes'))} of its activation memory. Per output value Conv2D "
        "does 5 x 5 x 16 = 400 multiply-adds against Conv3D's 5 x 5 x 5 = 125, but Conv3D produces 16 times "
        "more output values (one per time step): 16 x 125 / 400 = 5 times the work. Symbolically the MAC ratio "
        "is 1/5 whatever T, H and W are; the parameter ratio grows with T, (25T + 1)/126, and the memory ratio is "
        "1/T. The price: Conv2D mixes all time steps in its first layer and keeps no time axis."
    )


def answer_onehot() -> str:
    p = {v: _plan("examples/onehot_conv1d_vs_conv2d.yaml", v).layers[0] for v in
         ("conv1d", "conv2d_1x3", "conv2d_3x3_same")}
    return (
        "Conv1D with kernel k on (1000, 21) and Conv2D with kernel (1, k) on (1, 1000, 21) are the same computation: "
        f"the same {p['conv1d'].params:,} parameters, the same {p['conv1d'].macs:,} MACs, the same outputs (proved "
        "below on real arrays). The difference in accuracy therefore comes from elsewhere in the two networks. If "
        "the Conv2D network used square 3 x 3 kernels with 'same' padding, each kernel has three rows but the "
        "image has one: the top and bottom rows only ever multiply the zero padding. That layer has "
        f"{p['conv2d_3x3_same'].params:,} parameters and {p['conv2d_3x3_same'].macs:,} MACs, three times as many "
        "multiply-adds for the same information, with 2/3 of the kernel wasted on zeros — and the 2-D "
        "pooling layers behave differently on a height of 1 as well."
    )


def answer_per_sample() -> str:
    full = _plan("examples/per_sample_convolution.yaml", "full", N=32).layers[0]
    return (
        "Convolving each sample with its own kernel is a per-sample (batched) convolution. With a signal of length 2 "
        "and a kernel of length 3, 'valid' is impossible (2 - 3 + 1 = 0: the kernel does not fit), 'same' keeps "
        f"length 2, and 'full' gives 2 + 3 - 1 = 4: {full.output_shape} for a batch of 32. The standard trick "
        "does it in one call: fold the batch into the channels, (N, L, M) -> (1, L, N*M), and run one grouped "
        "convolution with groups = N*M whose filters are the per-sample kernels (in TensorFlow: "
        "`tf.nn.conv1d` on the transposed signal with the kernels reshaped to (K, 1, N*M) as a depthwise filter, "
        "or `tf.nn.depthwise_conv2d` with a height of 1). It performs exactly the same multiply-adds."
    )


def answer_multi_kernel() -> str:
    return (
        "A Conv1D layer has one kernel size. Two branches with kernels 2 and 3 on X time steps give X - 1 and X - 2 "
        "steps ((X - K + 2P)/S + 1 with P = 0, S = 1), so `Concatenate` fails with 99 vs 98 for X = 100. Align the "
        "lengths first: pad the shorter branch by one step (`ZeroPadding1D((0, 1))`), crop the longer one "
        "(`Cropping1D((0, 1))`), shorten it with a stride-1 `MaxPooling1D(2)`, or give both `padding='same'` so that "
        "both keep X steps. The costs are nearly the same; 'same' keeps every time step and costs a little more."
    )


def answer_unet() -> str:
    from convcalc.report import human_bytes

    p = _plan("examples/unet_2048.yaml", "same_padding")
    enc1 = p.layer("enc1a")
    one, fits = _unet_memory(1), _unet_fits()
    return (
        "Start with `Input((2048, 2048, 1))` and a U-Net: `Conv2D` blocks with `MaxPooling2D` on the way down, "
        "`Conv2DTranspose` (or `UpSampling2D`) and `Concatenate` with the skips on the way up, and a 1 x 1 "
        "`Conv2D(1, activation='sigmoid')` for the mask; no `Flatten`, no global pooling. With 'same' padding, 64 "
        f"base filters and depth 4 the output is {p.layers[-1].output_shape}, with {p.totals.params:,} parameters "
        f"and {p.totals.macs / 1e12:.2f} T MACs per image. The first layer alone outputs {enc1.output_shape}, "
        f"{enc1.activation_bytes / 2**30:.0f} GiB in float32. A training step under Adam holds "
        f"{human_bytes(one['training'])} per image in float32 — {human_bytes(one['saved'])} of it activations "
        f"saved for the backward pass — and {human_bytes(one['training_amp'])} with mixed precision (AMP), so a "
        f"16 GiB GPU trains {fits[16][0]['training']} image at a time in float32 and {fits[16][1]['training']} with "
        f"AMP, and an 80 GiB GPU {fits[80][0]['training']} and {fits[80][1]['training']} (the table below); for "
        "larger batches train on tiles. The skips only "
        "line up when H and W are multiples of 16 (four poolings). The original valid-padding U-Net needs "
        "H = 188 + 16k (2044 is the nearest to 2048) and outputs H - 184."
    )


def answer_transposed() -> str:
    v = {n: _plan("examples/transposed_conv1d.yaml", n) for n in ("valid", "stretched_conv", "dilated")}
    return (
        "Keras' `Conv1DTranspose` is the 1-D deconvolution (TensorFlow's `tf.nn.conv1d_transpose` too). With "
        "kernel 3 and stride 2 on L = 50 steps it gives 2L + 1 = 101 ('valid'), 2L = 100 ('same'), "
        "2L - 1 = 99 ('same' with output_padding=0) or 2L + 2 = 102 ('valid' with output_padding=1). It equals a "
        "stride-1 Conv1D with the flipped kernel over the input stretched with s - 1 = 1 zero between samples "
        "(Dumoulin & Visin, relation 14) — proved below — but computing it that way wastes the multiplications by "
        f"the inserted zeros: {v['stretched_conv'].totals.macs:,} MACs instead of {v['valid'].totals.macs:,}. "
        "`dilation_rate=2` is not the same thing: it spreads the kernel taps apart instead of the input samples, "
        f"gives L + 4 = {v['dilated'].layers[-1].output_shape[1]} steps, and no upsampling at all."
    )


PAGES = [
    Page("conv1d_on_images", "Can Conv1D classify (100, 100, 3) images batched as (20, 100, 100, 3)?",
         answer_conv1d_on_images,
         ["convcalc compare examples/conv1d_on_images.yaml --variant rows_and_columns --variant same_padding "
          "--variant conv2d --format markdown",
          "convcalc plan examples/conv1d_on_images.yaml --variant transposed_back",
          "convcalc plan examples/conv1d_on_images.yaml --variant keras3"],
         title="Conv1D on images: rows, columns and Conv2D"),
    Page("conv3d_vs_conv2d", "Conv3D (5,5,5) on (16, 1024, 1024, 1), or Conv2D with the 16 time steps as channels?",
         answer_conv3d_vs_conv2d,
         ["convcalc compare examples/conv3d_vs_conv2d.yaml --format markdown",
          "convcalc compare examples/conv3d_vs_conv2d.yaml --symbolic --format markdown"],
         title="Conv3D or time-as-channels Conv2D"),
    Page("onehot_conv1d_vs_conv2d", "One-hot sequences (1000, 21): why do Conv1D and Conv2D on (1, 1000, 21) differ?",
         answer_onehot, ["convcalc compare examples/onehot_conv1d_vs_conv2d.yaml --format markdown"], [proof_onehot],
         title="One-hot sequences: Conv1D vs Conv2D"),
    Page("per_sample_convolution", "Convolve each sample of [N, 2, 1] with its own kernel from [N, 3, 1]?",
         answer_per_sample,
         ["convcalc compare examples/per_sample_convolution.yaml --variant same --variant full "
          "--variant grouped_trick --format markdown",
          "convcalc plan examples/per_sample_convolution.yaml --variant valid"], [proof_per_sample],
         title="A different kernel for every sample"),
    Page("multi_kernel_conv1d", "Conv1D with kernels of sizes 2 and 3 side by side?", answer_multi_kernel,
         ["convcalc plan examples/multi_kernel_conv1d.yaml --variant mismatched",
          "convcalc compare examples/multi_kernel_conv1d.yaml --variant zero_padding --variant cropping "
          "--variant max_pooling --variant same_padding --format markdown",
          "convcalc compare examples/multi_kernel_conv1d.yaml --symbolic --variant zero_padding --variant cropping "
          "--variant max_pooling --variant same_padding --format markdown"],
         title="Several kernel sizes in one Conv1D"),
    Page("unet_2048", "A model for (2048, 2048, 1) images and masks: the first layer, the shapes, the memory?",
         answer_unet,
         ["convcalc compare examples/unet_2048.yaml --format markdown",
          "convcalc solve examples/unet_2048.yaml --variant same_padding --set N=1",
          "convcalc solve examples/unet_2048.yaml --variant valid_padding_paper --set N=1 --count 4",
          "convcalc memory examples/unet_2048.yaml --variant same_padding --train --amp --device-memory 80GiB"],
         [memory_table], title="A U-Net for 2048 x 2048 masks"),
    Page("transposed_conv1d", "A 1-D transposed convolution with stride 2: how are the zeros inserted?",
         answer_transposed,
         ["convcalc compare examples/transposed_conv1d.yaml --symbolic --format markdown",
          "convcalc check examples/transposed_conv1d.yaml --variant valid --variant stretched_conv"],
         [proof_transposed], title="Transposed Conv1D = Conv1D over the stretched input"),
]


def render(page: Page) -> str:
    parts = [f"# {page.title}", "", f"**Question.** {page.question} (a question users asked)", "",
             f"**Answer.** {page.answer()}", "", f"Model file: [`{page.name}.yaml`]({page.name}.yaml).", ""]
    for command in page.commands:
        code, out = run(command)
        markdown = "--format markdown" in command
        parts.append(f"```\n$ {command}\n```" + (f"\n\n(exit code {code})" if code else ""))
        parts.append("")
        parts.append(out.rstrip() if markdown else f"```\n{out.rstrip()}\n```")
        parts.append("")
    for proof in page.proofs:
        parts += [proof(), ""]
    parts.append("*Generated by `python examples/_generators/gallery.py`; `tests/test_gallery.py` fails if this page "
                 "drifts from convcalc's output.*")
    return "\n".join(parts) + "\n"


def index() -> str:
    lines = ["# Gallery: the seed questions, answered", "",
             "Each page answers one question users asked with convcalc's numbers, the model "
             "file behind them, and, where the answer says two computations are the same, a proof on real arrays.",
             "", "| question | page | model |", "|---|---|---|"]
    for page in PAGES:
        lines.append(f"| {page.question} | [{page.title}]({page.name}.md) | [`{page.name}.yaml`]({page.name}.yaml) |")
    lines += ["", "Also here: the reference models `resnet50.yaml`, `vgg16.yaml`, `mobilenet_v2.yaml` (PyTorch, "
              "torchvision's exact figures), `unet_original.yaml` (Keras, the paper's 572 -> 388) and "
              "`unet_symbolic.yaml` (the same, symbolic in H and W; `unet_symbolic.solve.txt` is its `convcalc solve`).",
              ""]
    return "\n".join(lines)


def main() -> None:
    for page in PAGES:
        (ROOT / "examples" / f"{page.name}.md").write_text(render(page))
        print(f"wrote examples/{page.name}.md")
    (ROOT / "examples" / "README.md").write_text(index())
    print("wrote examples/README.md")


if __name__ == "__main__":
    main()

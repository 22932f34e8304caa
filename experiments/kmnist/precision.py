"""Reduced precision: whether this machine runs it natively, and the autocast that applies it.

fp32 is the report's arithmetic. bf16 keeps fp32's exponent range, so it needs no gradient
scaling; fp16 does (its small gradients underflow), and only CUDA runs it fast.
"""
from contextlib import nullcontext

import torch

DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def default_device_type() -> str:
    """The device a build with ``--device auto`` trains on."""
    return "cuda" if torch.cuda.is_available() else "cpu"


def unsupported(precision: str, device_type: str) -> str | None:
    """Why ``precision`` cannot run natively on ``device_type`` here, or None when it can.

    Autocast would accept bf16 on any CPU, but without bf16 instructions it is emulated, no
    faster than fp32 and often slower: a draft precision that is not faster only costs accuracy.
    """
    if precision == "fp32":
        return None
    if device_type == "cuda":
        ok = precision == "fp16" or torch.cuda.is_bf16_supported()
        return None if ok else f"precision {precision} needs a CUDA GPU with bf16 support"
    if precision == "bf16" and cpu_has_bf16():
        return None
    return (f"precision {precision} is not supported natively on this machine's {device_type} "
            f"(bf16 needs a CPU with AVX-512 BF16 or AMX, or a CUDA GPU; fp16 needs a CUDA "
            f"GPU); use fp32")


def cpu_has_bf16() -> bool:
    """AVX-512 BF16 or AMX: the instructions oneDNN uses for native bf16 products."""
    return torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported()


def autocast(device: torch.device, precision: str):
    """The region in which matrix products and convolutions run in ``precision``."""
    if precision == "fp32":
        return nullcontext()
    return torch.autocast(device.type, dtype=DTYPES[precision])


def grad_scaler(device: torch.device, precision: str) -> torch.amp.GradScaler:
    """Loss scaling for fp16 only; disabled, the scaler passes losses and steps through."""
    return torch.amp.GradScaler(device.type, enabled=precision == "fp16")

"""Two published training-free scores of a network, the baselines the cheap score is measured against.

- NASWOT (Mellor, Turner, Storkey and Crowley, "Neural Architecture Search without Training", ICML 2021): feed a
  minibatch, write down for every image which ReLU units fire (a binary code), and score the network by the
  log-determinant of the matrix counting, for each pair of images, the units on which their codes agree
  (K_H = N_A - Hamming distance, N_A the number of ReLU units).
- synflow (Tanaka, Kunin, Yamins and Ganguli, "Pruning neural networks without any data by iteratively conserving
  synaptic flow", NeurIPS 2020; used as a zero-cost NAS proxy by Abdelfattah, Mehrotra, Dudziak and Lane,
  "Zero-Cost Proxies for Lightweight NAS", ICLR 2021): replace every parameter by its absolute value, feed an
  all-ones input, let R be the sum of the outputs, and score the network by the sum over parameters of
  |theta * dR/dtheta|; BatchNorm layers are removed, as the zero-cost paper does, and the sums run in float64.

Both are written here from those definitions; neither changes the network it is given.
"""
from __future__ import annotations
import copy
from typing import Sequence

import torch
from torch import nn
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode

RELU_FUNCTIONS = (F.relu, F.relu_, torch.relu, torch.relu_, torch.Tensor.relu, torch.Tensor.relu_)


class ReluCodes(TorchFunctionMode):
    "Inside the block, every ReLU output (module or functional) adds its binary codes to the NASWOT kernel `K`."
    def __init__(self):
        super().__init__()
        self.K, self.units = None, 0

    def add(self, out: torch.Tensor):
        "Add the agreements of the codes `out > 0` of one ReLU layer between every pair of images to `K`."
        c = (out.detach() > 0).flatten(1).double()
        k = c @ c.T + (1 - c) @ (1 - c).T   # units where both fire + units where neither fires
        self.K = k if self.K is None else self.K + k
        self.units += c.shape[1]

    def __torch_function__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        if func in RELU_FUNCTIONS: self.add(out)
        return out


@torch.no_grad()
def naswot_kernel(net: nn.Module,  # the network (run in eval mode, then put back in its mode)
                  x: torch.Tensor,  # a minibatch of inputs, as the network expects them
                  ) -> tuple[torch.Tensor, int]:
    "The NASWOT kernel K_H (N x N, float64) of `net` on the minibatch `x`, and the number of ReLU units N_A."
    training = net.training
    codes = ReluCodes()
    try:
        net.eval()
        with codes: net(x)
    finally: net.train(training)
    if codes.K is None: raise ValueError("the network applied no ReLU: NASWOT is undefined")
    return codes.K, codes.units


def naswot(net: nn.Module,  # the network
           x: torch.Tensor,  # a minibatch of inputs (e.g. 64 normalised images)
           ) -> float:
    "NASWOT score of `net` on `x`: log |K_H| (-inf when two images share a code: K_H is then singular)."
    K, _ = naswot_kernel(net, x)
    sign, logdet = torch.linalg.slogdet(K)
    return float(logdet) if sign > 0 else float('-inf')


def without_batchnorm(net: nn.Module) -> nn.Module:
    "`net` (changed in place) with every BatchNorm layer replaced by an identity."
    for name, m in list(net.named_modules()):
        if name and isinstance(m, nn.modules.batchnorm._BatchNorm):
            parent, _, child = name.rpartition('.')
            setattr(net.get_submodule(parent) if parent else net, child, nn.Identity())
    return net


def synflow(net: nn.Module,  # the network (copied: it is left unchanged)
            input_shape: Sequence[int] = (3, 32, 32),  # (C, H, W) of one input
            ) -> float:
    "synflow score of `net`: sum of |theta * dR/dtheta| over parameters, R = sum of the all-ones output of |net|."
    work = without_batchnorm(copy.deepcopy(net)).double().eval()
    device = next((p.device for p in work.parameters()), torch.device('cpu'))
    params = list(work.parameters())
    with torch.no_grad():
        for p in params: p.abs_()
    for p in params: p.requires_grad_(True); p.grad = None
    with torch.enable_grad():
        work(torch.ones(1, *input_shape, dtype=torch.float64, device=device)).sum().backward()
    return float(sum((p.detach() * p.grad).abs().sum() for p in params if p.grad is not None))

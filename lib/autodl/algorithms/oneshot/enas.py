"""ENAS (Pham et al., ICML 2018) on the NAS-Bench-201 space (spec 2.5).

The shared supernet trains on the plain training loader, one controller-sampled cell per batch
(gradient clip 5).  After each epoch the controller trains with REINFORCE: ``controller_train_steps``
updates, each accumulating ``controller_num_aggregate`` sampled cells scored on one
training-augmented valid batch each; reward = top-1 fraction + ``entropy_weight`` x entropy;
loss = -log_prob x (reward - baseline).  ``controller_baseline`` chooses the baseline (see
:func:`reinforce_loss`): ``epoch`` (default) is the original's (exps/algos/ENAS.py), ``sample`` the
ENAS paper's per-sample moving average.  Then ``controller_epoch_samples`` cells are scored on one
valid batch each and the best is evaluated on the whole valid set; after training
``controller_num_samples`` cells are scored and the best is the answer.  The shipped recipe keeps
the original's cosine ``T_max = 10`` over 250 epochs (the LR oscillates, inventory 8.15).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from ...config import SearchConfig, setting
from ...engine.classification import to_device
from ...engine.distributed import all_reduce_sum, average_gradients
from ...engine.meters import correct_topk
from ...models.controller import Controller
from ..registry import register_algorithm
from .base import SearchTask, prefixed


def reinforce_loss(log_prob: torch.Tensor, entropy: torch.Tensor, accuracy: float, baseline: float | None,
                   entropy_weight: float, decay: float, mode: str = "epoch") -> tuple[torch.Tensor, float, float]:
    """``(controller loss, the sample's baseline, the reward)`` for one sampled cell.

    reward = accuracy + entropy_weight x entropy.  ``baseline`` is the reference baseline: in ``epoch``
    mode the epoch-start one (None in the first epoch), in ``sample`` mode the running one (None before
    the first sample).

    - ``epoch`` (the original): the sample's baseline is ``accuracy`` in the first epoch, else
      ``baseline - (1 - decay)(baseline - reward)``; the entropy keeps its gradient, also inside that
      baseline, so the loss is ``-log_prob x decay x (reward - baseline)`` (``-log_prob x entropy_weight x
      entropy`` in the first epoch) and carries ``-log_prob x d(entropy)`` terms.
    - ``sample`` (the ENAS paper): the entropy is a detached bonus; advantage = reward - baseline (0 for
      the very first sample, whose reward starts the baseline); the returned baseline is the running one
      after this sample, ``baseline - (1 - decay)(baseline - reward)``.
    """
    if mode == "sample":
        reward = accuracy + entropy_weight * float(entropy.detach())
        baseline = reward if baseline is None else baseline
        return -log_prob * (reward - baseline), baseline - (1.0 - decay) * (baseline - reward), reward
    reward = accuracy + entropy_weight * entropy
    sample_baseline = accuracy if baseline is None else baseline - (1.0 - decay) * (baseline - reward)
    return -log_prob * (reward - sample_baseline), float(torch.as_tensor(sample_baseline).detach()), float(reward.detach())


@dataclass(frozen=True)
class ENASSettings(SearchConfig):
    controller_hidden: int = setting(32, "ENAS: LSTM hidden size of the controller", count=True)
    controller_train_steps: int = setting(50, "ENAS: controller updates per epoch", count=True)
    controller_num_aggregate: int = setting(20, "ENAS: sampled cells per controller update", count=True)
    controller_entropy_weight: float = setting(1e-4, "ENAS: weight of the entropy in the reward")
    controller_bl_dec: float = setting(0.99, "ENAS: decay of the reward baseline")
    controller_baseline: str = setting("epoch", "ENAS: epoch (the original's epoch-start baseline) or sample "
                                       "(the paper's running one)", ("epoch", "sample"))
    controller_num_samples: int = setting(100, "ENAS: cells scored for the final answer", count=True)
    controller_epoch_samples: int = setting(10, "ENAS: cells scored at each epoch end", count=True)


@register_algorithm("enas", recipe="ENAS")
class ENAS(SearchTask):
    """Efficient NAS via parameter sharing, with an LSTM controller."""

    supernets = {"nas-bench-201": "search.nb201"}
    uses_arch_parameters = False
    Settings = ENASSettings

    def __init__(self, supernet, loaders, optim, search, device, **kwargs) -> None:
        super().__init__(supernet, loaders, optim, search, device, **kwargs)
        self.train_loader = loaders.train
        shape = tuple(supernet.arch_parameters()[0].shape)
        self.controller = Controller(shape[0], shape[1], search.controller_hidden).to(device)
        self.a_optimizer = torch.optim.Adam(self.controller.parameters(), lr=search.arch_LR,
                                            betas=tuple(search.arch_betas), eps=search.arch_eps,
                                            weight_decay=search.arch_decay)
        self.baseline: float | None = None
        self._arch_batches = None

    def sample(self) -> list[list[int]]:
        with torch.no_grad():
            return [self.controller(self.generator)[2]]

    def search_step(self, inputs, targets) -> dict[str, Any]:
        """A weight step under a cell sampled from the controller (the plain loader has no arch half)."""
        return self.weight_step(inputs, targets, indices=self.sample())

    def arch_batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The next valid batch with the training augmentation (the architecture half of the search loader)."""
        for _ in range(2):
            if self._arch_batches is None:
                self._arch_batches = iter(self.loaders.search)
            try:
                _, _, inputs, targets = next(self._arch_batches)
                return to_device(inputs, self.device), to_device(targets, self.device)
            except StopIteration:
                self._arch_batches = None
        raise RuntimeError("the search loader yields no batch")

    def train_controller(self) -> dict[str, float]:
        config = self.config
        self.supernet.eval()
        self._arch_batches = None  # a fresh pass each epoch, so a resumed run sees the same batches
        totals = torch.zeros(3, dtype=torch.float64)
        epoch_baseline = self.baseline
        for _ in range(config.controller_train_steps):
            self.a_optimizer.zero_grad(set_to_none=True)
            for _ in range(config.controller_num_aggregate):
                log_prob, entropy, ops, _ = self.controller(self.generator)
                inputs, targets = self.arch_batch()
                with torch.no_grad():
                    (correct,) = correct_topk(self.forward(inputs, indices=[ops]), targets, (1,))
                    accuracy = all_reduce_sum(torch.tensor([float(correct), len(targets)], dtype=torch.float64))
                reference = epoch_baseline if config.controller_baseline == "epoch" else self.baseline
                loss, self.baseline, reward = reinforce_loss(
                    log_prob, entropy, float(accuracy[0] / accuracy[1]), reference,
                    config.controller_entropy_weight, config.controller_bl_dec, config.controller_baseline)
                (loss / config.controller_num_aggregate).backward()
                totals += torch.tensor([reward, float(entropy.detach()), 1.0], dtype=torch.float64)
            params = list(self.controller.parameters())
            average_gradients(params)
            nn.utils.clip_grad_norm_(params, 5.0)
            self.a_optimizer.step()
        self.supernet.train()
        reward, entropy, count = totals.tolist()
        return {"controller_reward": reward / count, "controller_entropy": entropy / count,
                "controller_baseline": self.baseline}

    def select_sampled(self, count: int) -> list[list[int]]:
        best, _ = self.best_of([self.sample() for _ in range(count)])
        self.selected = self.arch_of(best)
        return best

    def select(self, epoch: int) -> dict[str, Any]:
        metrics = self.train_controller()
        best = self.select_sampled(self.config.controller_epoch_samples)
        return {**metrics, **prefixed("valid_", self.evaluate(self.loaders.valid, indices=best))}

    def final_arch(self):
        self.select_sampled(self.config.controller_num_samples)
        return self.selected

    def arch_probabilities(self) -> list[torch.Tensor]:
        """The controller's op distribution of every edge along its most likely cell."""
        with torch.no_grad():
            return [self.controller(greedy=True)[3].cpu()]

    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), "controller": self.controller.state_dict(), "baseline": self.baseline}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.controller.load_state_dict(state["controller"])
        self.baseline = state["baseline"]

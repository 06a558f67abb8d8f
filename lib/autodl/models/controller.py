"""The ENAS controller (spec 2.5): an LSTM that emits one op per edge of a cell, autoregressively."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn



class Controller(nn.Module):
    """A 2-layer LSTM (hidden 32) with a learned first input, an op embedding and a linear head.

    For each edge in order: one LSTM step, ``logits = 2.5 tanh(head(h) / 5)``, an op drawn from
    ``softmax(logits)`` (or the given / the most likely op), whose embedding is the next input.
    ``forward`` returns the summed log-probability, the summed entropy and the op of every edge.
    """

    def __init__(self, num_edges: int = 6, num_ops: int = 5, hidden: int = 32, layers: int = 2,
                 temperature: float = 5.0, tanh_constant: float = 2.5) -> None:
        super().__init__()
        self.num_edges, self.num_ops = num_edges, num_ops
        self.temperature, self.tanh_constant = temperature, tanh_constant
        self.input_vars = nn.Parameter(torch.empty(1, 1, hidden))
        self.lstm = nn.LSTM(hidden, hidden, layers)
        self.embedding = nn.Embedding(num_ops, hidden)
        self.head = nn.Linear(hidden, num_ops)
        for weight in (self.input_vars, self.lstm.weight_hh_l0, self.lstm.weight_ih_l0, self.embedding.weight,
                       self.head.weight):
            nn.init.uniform_(weight, -0.1, 0.1)

    def forward(self, generator: torch.Generator | None = None, actions: list[int] | None = None,
                greedy: bool = False) -> tuple[torch.Tensor, torch.Tensor, list[int], torch.Tensor]:
        """Sample with ``generator`` (CPU), score the given ``actions``, or follow the most likely ops
        (``greedy``).  Returns (sum of log-probs, sum of entropies, ops, per-edge probabilities)."""
        inputs, state = self.input_vars, None
        log_prob, entropy, ops, rows = 0.0, 0.0, [], []
        for edge in range(self.num_edges):
            output, state = self.lstm(inputs, state)
            logits = self.tanh_constant * torch.tanh(self.head(output[-1, 0]) / self.temperature)
            log_probs = F.log_softmax(logits, dim=-1)
            probs = log_probs.exp()
            if actions is not None:
                op = int(actions[edge])
            elif greedy:
                op = int(probs.argmax())
            else:
                op = int(torch.multinomial(probs.detach().cpu(), 1, generator=generator))
            log_prob = log_prob + log_probs[op]
            entropy = entropy - (probs * log_probs).sum()
            ops.append(op)
            rows.append(probs.detach())
            inputs = self.embedding.weight[op].view(1, 1, -1)
        return log_prob, entropy, ops, torch.stack(rows)

"""HPO-CG: gradient-based tuning of continuous hyper-parameters by implicit differentiation.

Pedregosa, "Hyperparameter optimization with approximate gradient" (ICML 2016, HOAG). The
hyper-parameters ``lambda`` of a training loss ``L_train(w, lambda)`` are tuned on a validation
loss ``L_val(w(lambda), lambda)`` where ``w(lambda)`` minimises the training loss. At an
approximate minimiser ``w``, the implicit function theorem gives

    d L_val / d lambda = grad_lambda L_val - (grad^2_{lambda,w} L_train) q,   H q = grad_w L_val,

with ``H = grad^2_w L_train``. ``q`` comes from a conjugate-gradient solve that only needs
Hessian-vector products (double backward through autograd; the Hessian is never formed). The inner
minimisation and the CG solve stop at a tolerance ``eps_k`` that decreases with the outer iteration
``k`` along a summable sequence, which is what makes the approximate hyper-gradients converge.

The outer variable is ``log lambda`` (so every hyper-parameter stays positive), projected onto
optional bounds after each step.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, NamedTuple, Protocol, Sequence

import torch
from torch import Tensor

from ..errors import AutoDLError, ConfigError, DivergenceError

TOLERANCE_KINDS = ("quadratic", "cubic", "exponential")


class NotPositiveDefiniteError(AutoDLError):
    """The training loss's Hessian at the inner solution is not positive definite, so CG cannot solve with it."""


class BilevelProblem(Protocol):
    """A training loss to minimise over ``params`` and a validation loss to minimise over ``hyper``.

    ``params`` are the model's parameters (a list of tensors), ``hyper`` a 1-D tensor of positive
    hyper-parameters. The training loss must be twice differentiable in ``params`` and strictly
    convex near its minimiser (an L2 penalty with ``hyper > 0`` usually ensures it).
    """

    def train_loss(self, params: Sequence[Tensor], hyper: Tensor) -> Tensor: ...

    def val_loss(self, params: Sequence[Tensor], hyper: Tensor) -> Tensor: ...


@dataclass(frozen=True)
class ToleranceSchedule:
    """The summable tolerance sequence ``eps_k`` (k = 1, 2, ...) of the inner solve and the CG solve.

    ``quadratic``: ``initial / k**2``; ``cubic``: ``initial / k**3``; ``exponential``:
    ``initial * rate**(k - 1)`` (the three sequences of the paper's experiments).
    """

    initial: float = 0.1
    kind: str = "quadratic"
    rate: float = 0.9

    def __post_init__(self) -> None:
        if self.kind not in TOLERANCE_KINDS:
            raise ConfigError(f"tolerance schedule {self.kind!r} is not supported; expected one of {', '.join(TOLERANCE_KINDS)}")
        if not self.initial > 0:
            raise ConfigError(f"the initial tolerance must be > 0, got {self.initial}")
        if not 0 < self.rate < 1:
            raise ConfigError(f"the exponential tolerance rate must be in (0, 1) for a summable sequence, got {self.rate}")

    def __call__(self, k: int) -> float:
        if k < 1:
            raise ConfigError(f"tolerance schedules are indexed from k = 1, got k = {k}")
        if self.kind == "quadratic":
            return self.initial / k ** 2
        if self.kind == "cubic":
            return self.initial / k ** 3
        return self.initial * self.rate ** (k - 1)


class CGResult(NamedTuple):
    solution: Tensor
    iterations: int
    residual_norm: float


def conjugate_gradient(matvec: Callable[[Tensor], Tensor], rhs: Tensor, x0: Tensor | None = None,
                       tol: float = 1e-10, max_iter: int | None = None) -> CGResult:
    """Solve ``A x = rhs`` for a symmetric positive-definite ``A`` given only ``matvec(v) = A v``.

    Stops when ``||A x - rhs|| <= tol`` or after ``max_iter`` iterations (default: twice the
    dimension). A direction of non-positive curvature raises :class:`NotPositiveDefiniteError`.
    """
    max_iter = 2 * rhs.numel() if max_iter is None else max_iter
    x = torch.zeros_like(rhs) if x0 is None else x0.detach().clone()
    residual = rhs - matvec(x) if x0 is not None else rhs.clone()
    direction = residual.clone()
    squared = residual.dot(residual)
    iterations = 0
    while math.sqrt(squared) > tol and iterations < max_iter:
        product = matvec(direction)
        curvature = direction.dot(product)
        if curvature <= 0:
            raise NotPositiveDefiniteError(
                f"the training loss has curvature {float(curvature):.3g} <= 0 along a CG direction, so its Hessian is not "
                "positive definite at the inner solution; use a strictly convex training loss (for example a larger L2 penalty)")
        step = squared / curvature
        x += step * direction
        residual -= step * product
        new_squared = residual.dot(residual)
        direction = residual + (new_squared / squared) * direction
        squared = new_squared
        iterations += 1
    return CGResult(x, iterations, math.sqrt(squared))


def _flat(tensors: Sequence[Tensor]) -> Tensor:
    return torch.cat([t.reshape(-1) for t in tensors])


def _grad_norm(loss: Tensor, params: Sequence[Tensor]) -> float:
    return float(_flat(torch.autograd.grad(loss, params)).norm())


def _train_gradient(problem: BilevelProblem, params: Sequence[Tensor], hyper: Tensor) -> tuple[Tensor, Callable[[Tensor], Tensor]]:
    """``grad_w L_train`` (flat, differentiable in ``params`` and ``hyper``) and the Hessian-vector
    product ``v -> grad^2_w L_train v`` by double backward through it. Call under ``enable_grad``."""
    gradient = _flat(torch.autograd.grad(problem.train_loss(params, hyper), params, create_graph=True))

    def hessian_vector(vector: Tensor) -> Tensor:
        return _flat(torch.autograd.grad(gradient, params, grad_outputs=vector, retain_graph=True,
                                         allow_unused=True, materialize_grads=True)).detach()

    return gradient, hessian_vector


def _newton_step(problem: BilevelProblem, params: Sequence[Tensor], hyper: Tensor, tol: float) -> None:
    """``w <- w - H^-1 grad_w L_train`` in place, with the solve by CG to ``tol``."""
    with torch.enable_grad():
        gradient, hessian_vector = _train_gradient(problem, params, hyper)
        step = conjugate_gradient(hessian_vector, gradient.detach(), tol=tol).solution
    with torch.no_grad():
        offset = 0
        for param in params:
            param -= step[offset:offset + param.numel()].view_as(param)
            offset += param.numel()


class InnerResult(NamedTuple):
    """The training loss and its gradient norm at the end, and the gradient evaluations spent
    (L-BFGS function evaluations plus Newton steps)."""

    loss: float
    grad_norm: float
    evaluations: int


def inner_solve(problem: BilevelProblem, params: Sequence[Tensor], hyper: Tensor, tol: float,
                max_evaluations: int = 2000) -> InnerResult:
    """Minimise ``problem.train_loss`` over ``params`` in place, warm-started from their current values,
    until ``||grad_w L_train|| <= tol`` or ``max_evaluations`` gradient evaluations were spent.

    Full-batch L-BFGS (strong Wolfe line search) does the work. Its line search needs the loss to
    fall measurably, which stops it near ``sqrt(machine epsilon)`` in gradient norm; when a round of
    L-BFGS no longer shrinks the gradient, Newton steps (CG on Hessian-vector products, which need no
    line search near a minimum of a convex loss) take it the rest of the way.
    """
    params = list(params)
    hyper = hyper.detach()
    size = sum(p.numel() for p in params)
    evaluations = 0

    def closure() -> Tensor:
        nonlocal evaluations
        evaluations += 1
        optimizer.zero_grad()
        loss = problem.train_loss(params, hyper)
        if not torch.isfinite(loss):
            raise DivergenceError(f"the training loss became {float(loss)} during the inner solve; "
                                  "start from smaller hyper-parameters or rescale the features")
        loss.backward()
        return loss

    # torch's L-BFGS stops on the largest gradient entry; tol / sqrt(size) bounds the 2-norm by tol
    optimizer = torch.optim.LBFGS(params, lr=1.0, max_iter=20, tolerance_grad=tol / math.sqrt(size),
                                  tolerance_change=0.0, history_size=20, line_search_fn="strong_wolfe")
    previous = math.inf
    newton = False
    while True:
        with torch.enable_grad():
            loss = problem.train_loss(params, hyper)
            norm = _grad_norm(loss, params)
        loss = float(loss.detach())
        if not math.isfinite(norm):
            raise DivergenceError(f"the training gradient became {norm} during the inner solve; "
                                  "start from smaller hyper-parameters or rescale the features")
        if norm <= tol or evaluations >= max_evaluations or (newton and norm >= previous):
            return InnerResult(loss, norm, evaluations)
        newton = newton or norm >= 0.5 * previous
        previous = norm
        if newton:
            _newton_step(problem, params, hyper, tol=0.1 * tol)
            evaluations += 1
        else:
            optimizer.step(closure)


class HyperGradient(NamedTuple):
    """``gradient``: d L_val / d hyper at the inner solution; ``q``: the CG solution (flat, reused as the
    next warm start); ``val_loss``: the validation loss there."""

    gradient: Tensor
    q: Tensor
    val_loss: float
    cg_iterations: int
    cg_residual: float


def hypergradient(problem: BilevelProblem, params: Sequence[Tensor], hyper: Tensor, tol: float = 1e-10,
                  max_iter: int | None = None, q0: Tensor | None = None) -> HyperGradient:
    """The implicit hyper-gradient of the validation loss at the (approximate) inner solution ``params``.

    ``q0`` warm-starts the CG solve of ``H q = grad_w L_val`` (with the previous outer iteration's
    ``q``); ``tol`` and ``max_iter`` stop it.
    """
    params = [p.detach().requires_grad_() for p in params]
    hyper = hyper.detach().requires_grad_()
    with torch.enable_grad():
        val = problem.val_loss(params, hyper)
        *val_w, val_hyper = torch.autograd.grad(val, [*params, hyper], allow_unused=True, materialize_grads=True)
        train_grad, hessian_vector = _train_gradient(problem, params, hyper)
        solve = conjugate_gradient(hessian_vector, _flat(val_w).detach(), x0=q0, tol=tol, max_iter=max_iter)
        # d/d hyper of (grad_w L_train . q) with q held fixed: the mixed second derivative applied to q
        (mixed,) = torch.autograd.grad(train_grad, hyper, grad_outputs=solve.solution, allow_unused=True,
                                       materialize_grads=True)
    return HyperGradient((val_hyper - mixed).detach(), solve.solution, float(val.detach()), solve.iterations, solve.residual_norm)


class HOAGResult(NamedTuple):
    """The tuned hyper-parameters, the inner solution at them, and one record per outer iteration."""

    hyper: Tensor
    params: list[Tensor]
    val_loss: float
    history: list[dict]


def hoag(problem: BilevelProblem, params: Sequence[Tensor], hyper: Tensor, *, iterations: int = 30,
         schedule: ToleranceSchedule = ToleranceSchedule(), lower: float | None = None, upper: float | None = None,
         max_log_step: float = 1.0, max_evaluations: int = 2000, callback: Callable[[dict], None] | None = None) -> HOAGResult:
    """Tune ``hyper`` (1-D, positive) by approximate-gradient descent on ``log hyper`` for ``iterations`` outer steps.

    Iteration ``k``: solve the inner problem to ``eps_k = schedule(k)`` (warm start), solve for the
    hyper-gradient with CG to ``eps_k`` (warm start), then step ``log hyper`` against it and project
    onto ``[log lower, log upper]``. Step length ("bold driver"): the first step moves ``log hyper``
    by 1 in norm; after a step that raised the validation loss by more than ``eps_k`` or turned the
    hyper-gradient around, the step length is halved, after any other it grows by 20%. No
    coordinate of ``log hyper`` moves by more than ``max_log_step`` in one step, so an inexact early
    gradient cannot throw a penalty onto the flat region near 0 or infinity. Returns the last point
    evaluated. ``callback`` gets each iteration's record.
    """
    if iterations < 1:
        raise ConfigError(f"HOAG needs at least one outer iteration, got {iterations}")
    hyper = hyper.detach()
    if hyper.dim() != 1 or not bool((hyper > 0).all()):
        raise ConfigError(f"hyper-parameters must be a 1-D tensor of positive values, got {hyper.tolist()}")
    if lower is not None and upper is not None and not 0 < lower <= upper:
        raise ConfigError(f"need 0 < lower <= upper for the hyper-parameter bounds, got lower={lower}, upper={upper}; swap or widen them")
    low = -math.inf if lower is None else math.log(lower)
    high = math.inf if upper is None else math.log(upper)
    log_hyper = hyper.log().clamp(low, high)
    current = [p.detach().clone().requires_grad_() for p in params]
    step_size: float | None = None
    q: Tensor | None = None
    history: list[dict] = []
    for k in range(1, iterations + 1):
        eps = schedule(k)
        hyper_k = log_hyper.exp()
        inner = inner_solve(problem, current, hyper_k, eps, max_evaluations)
        grad = hypergradient(problem, current, hyper_k, tol=eps, q0=q)
        log_gradient = grad.gradient * hyper_k  # chain rule through hyper = exp(log_hyper)
        if step_size is None:
            step_size = 1.0 / max(float(log_gradient.norm()), 1e-12)
        elif grad.val_loss > previous_val + eps or float(log_gradient.dot(previous_gradient)) < 0:
            step_size /= 2  # overshot: the loss rose or the gradient turned around
        else:
            step_size *= 1.2
        record = {"iteration": k, "hyper": hyper_k.tolist(), "val_loss": grad.val_loss, "train_loss": inner.loss,
                  "tolerance": eps, "inner_grad_norm": inner.grad_norm, "inner_evaluations": inner.evaluations,
                  "cg_iterations": grad.cg_iterations, "cg_residual": grad.cg_residual,
                  "hypergradient": grad.gradient.tolist(), "step_size": step_size}
        history.append(record)
        if callback is not None:
            callback(record)
        q, previous_val, previous_gradient = grad.q, grad.val_loss, log_gradient
        step = (step_size * log_gradient).clamp(-max_log_step, max_log_step)
        log_hyper = (log_hyper - step).clamp(low, high)
    return HOAGResult(hyper_k, [p.detach() for p in current], grad.val_loss, history)

"""HPO-CG (autodl.hpo.cg): CG on known systems, the tolerance schedule, hyper-gradients against finite
differences, and HOAG reaching the optimal ridge penalty; exps/hpo-cg.py end to end."""
import json
import math
from importlib.util import module_from_spec, spec_from_file_location
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from autodl.cli import run_main
from autodl.errors import ConfigError
from autodl.hpo.cg import NotPositiveDefiniteError, ToleranceSchedule, conjugate_gradient, hoag, hypergradient, inner_solve

ROOT = Path(__file__).resolve().parents[1]
DOUBLE = torch.float64


def spd_matrix(size, seed=0):
    generator = torch.Generator().manual_seed(seed)
    factor = torch.randn(size, size, generator=generator, dtype=DOUBLE)
    return factor.T @ factor + 0.5 * torch.eye(size, dtype=DOUBLE)


def test_conjugate_gradient_solves_a_known_spd_system():
    matrix = spd_matrix(12)
    expected = torch.arange(1, 13, dtype=DOUBLE)
    rhs = matrix @ expected
    result = conjugate_gradient(lambda v: matrix @ v, rhs, tol=1e-10)
    assert torch.allclose(result.solution, expected, rtol=0, atol=1e-8)
    assert result.residual_norm <= 1e-10 and 1 < result.iterations <= 24
    # a 2x2 system by hand: [[4, 1], [1, 3]] x = [1, 2] has x = [1/11, 7/11], reached in 2 steps
    small = torch.tensor([[4.0, 1.0], [1.0, 3.0]], dtype=DOUBLE)
    exact = conjugate_gradient(lambda v: small @ v, torch.tensor([1.0, 2.0], dtype=DOUBLE), tol=1e-14)
    assert exact.iterations == 2 and torch.allclose(exact.solution, torch.tensor([1 / 11, 7 / 11], dtype=DOUBLE), atol=1e-14)
    # a warm start at the solution needs no iteration; max_iter bounds the work
    assert conjugate_gradient(lambda v: matrix @ v, rhs, x0=expected, tol=1e-6).iterations == 0
    assert conjugate_gradient(lambda v: matrix @ v, rhs, tol=1e-10, max_iter=3).iterations == 3


def test_conjugate_gradient_refuses_an_indefinite_matrix():
    indefinite = torch.diag(torch.tensor([2.0, -1.0, 3.0], dtype=DOUBLE))
    with pytest.raises(NotPositiveDefiniteError, match="not positive definite"):
        conjugate_gradient(lambda v: indefinite @ v, torch.ones(3, dtype=DOUBLE))


def test_tolerance_schedule_is_decreasing_and_summable():
    quadratic, cubic = ToleranceSchedule(0.1, "quadratic"), ToleranceSchedule(0.1, "cubic")
    exponential = ToleranceSchedule(0.1, "exponential", rate=0.5)
    assert [quadratic(k) for k in (1, 2, 10)] == pytest.approx([0.1, 0.025, 0.001])
    assert [cubic(k) for k in (1, 2, 10)] == pytest.approx([0.1, 0.0125, 0.0001])
    assert [exponential(k) for k in (1, 2, 4)] == pytest.approx([0.1, 0.05, 0.0125])
    limits = {quadratic: 0.1 * math.pi ** 2 / 6, cubic: 0.1 * 1.2020569031595942, exponential: 0.1 / (1 - 0.5)}
    for schedule, limit in limits.items():
        values = [schedule(k) for k in range(1, 1001)]
        assert all(a > b for a, b in zip(values, values[1:]))
        assert sum(values) <= limit + 1e-15 and sum(values) == pytest.approx(limit, rel=1e-3)
    for bad in (dict(kind="linear"), dict(initial=0.0), dict(kind="exponential", rate=1.0)):
        with pytest.raises(ConfigError):
            ToleranceSchedule(**bad)
    with pytest.raises(ConfigError, match="k = 1"):
        quadratic(0)


class GroupLogistic:
    """Softmax regression on random data, one L2 penalty per group of features; the validation loss
    also holds a direct term in the penalties, so both parts of the hyper-gradient are exercised."""

    def __init__(self, direct=0.0):
        generator = torch.Generator().manual_seed(3)
        self.x = torch.randn(60, 5, generator=generator, dtype=DOUBLE)
        self.y = torch.randint(0, 3, (60,), generator=generator)
        self.xv = torch.randn(40, 5, generator=generator, dtype=DOUBLE)
        self.yv = torch.randint(0, 3, (40,), generator=generator)
        self.groups = torch.tensor([0, 0, 1, 1, 2])
        self.direct = direct

    def params(self):
        return [torch.zeros(5, 3, dtype=DOUBLE, requires_grad=True), torch.zeros(3, dtype=DOUBLE, requires_grad=True)]

    def train_loss(self, params, hyper):
        weight, bias = params
        return F.cross_entropy(self.x @ weight + bias, self.y) + 0.5 * (hyper[self.groups].unsqueeze(1) * weight ** 2).sum()

    def val_loss(self, params, hyper):
        weight, bias = params
        return F.cross_entropy(self.xv @ weight + bias, self.yv) + self.direct * (hyper ** 2).sum()


def validation_at_optimum(problem, hyper):
    params = problem.params()
    inner_solve(problem, params, hyper, tol=1e-13)
    return float(problem.val_loss(params, hyper).detach())


@pytest.mark.parametrize("direct", [0.0, 0.3])
def test_hypergradient_agrees_with_finite_differences(direct):
    problem = GroupLogistic(direct)
    hyper = torch.tensor([0.05, 0.2, 0.01], dtype=DOUBLE)
    params = problem.params()
    inner = inner_solve(problem, params, hyper, tol=1e-13)
    assert inner.grad_norm <= 1e-13
    result = hypergradient(problem, params, hyper, tol=1e-13)
    finite = []
    for i in range(len(hyper)):
        step = 1e-5 * float(hyper[i])
        plus, minus = hyper.clone(), hyper.clone()
        plus[i] += step
        minus[i] -= step
        finite.append((validation_at_optimum(problem, plus) - validation_at_optimum(problem, minus)) / (2 * step))
    finite = torch.tensor(finite, dtype=DOUBLE)
    assert finite.abs().min() > 1e-3  # every coordinate carries a real signal
    assert torch.allclose(result.gradient, finite, rtol=1e-6, atol=1e-9), (result.gradient, finite)


class Ridge:
    """0.5 mean squared error + 0.5 lambda ||w||^2 on training data; 0.5 mean squared error on validation data."""

    def __init__(self):
        generator = torch.Generator().manual_seed(0)
        true = torch.randn(30, generator=generator, dtype=DOUBLE)
        self.x = torch.randn(40, 30, generator=generator, dtype=DOUBLE)
        self.y = self.x @ true + 2 * torch.randn(40, generator=generator, dtype=DOUBLE)
        self.xv = torch.randn(40, 30, generator=generator, dtype=DOUBLE)
        self.yv = self.xv @ true + 2 * torch.randn(40, generator=generator, dtype=DOUBLE)

    def train_loss(self, params, hyper):
        return 0.5 * ((self.x @ params[0] - self.y) ** 2).mean() + 0.5 * hyper[0] * (params[0] ** 2).sum()

    def val_loss(self, params, hyper):
        return 0.5 * ((self.xv @ params[0] - self.yv) ** 2).mean()

    def best_lambda(self):
        """The validation loss's minimiser over lambda, from the closed-form ridge solution
        w(lambda) = (X^T X / n + lambda I)^-1 X^T y / n on a log-grid of 60,001 points over [1e-4, 1e2]
        (neighbours differ by 0.023%), evaluated in the eigenbasis of X^T X / n."""
        eigenvalues, vectors = torch.linalg.eigh(self.x.T @ self.x / len(self.x))
        projected = vectors.T @ (self.x.T @ self.y / len(self.x))
        lambdas = torch.logspace(-4, 2, 60001, dtype=DOUBLE)
        solutions = vectors @ (projected[:, None] / (eigenvalues[:, None] + lambdas[None, :]))
        losses = 0.5 * ((self.xv @ solutions - self.yv[:, None]) ** 2).mean(0)
        index = int(losses.argmin())
        assert 0 < index < len(lambdas) - 1  # an interior minimum
        return float(lambdas[index])


@pytest.mark.parametrize("start", [1e-3, 100.0])
def test_hoag_reaches_the_closed_form_optimal_ridge_penalty(start):
    problem = Ridge()
    best = problem.best_lambda()
    assert 0.01 < best < 1.0
    result = hoag(problem, [torch.zeros(30, dtype=DOUBLE)], torch.tensor([start], dtype=DOUBLE), iterations=30)
    assert abs(float(result.hyper[0]) / best - 1) < 0.01, (float(result.hyper[0]), best)
    history = result.history
    assert [r["tolerance"] for r in history] == pytest.approx([0.1 / k ** 2 for k in range(1, 31)])
    assert all(r["inner_grad_norm"] <= r["tolerance"] for r in history)
    assert all(r["cg_residual"] <= r["tolerance"] for r in history)


def test_hoag_keeps_the_penalty_inside_its_bounds():
    result = hoag(Ridge(), [torch.zeros(30, dtype=DOUBLE)], torch.tensor([1.0], dtype=DOUBLE), iterations=6, lower=0.5)
    assert min(r["hyper"][0] for r in result.history) == pytest.approx(0.5)
    with pytest.raises(ConfigError, match="positive"):
        hoag(Ridge(), [torch.zeros(30, dtype=DOUBLE)], torch.tensor([-1.0], dtype=DOUBLE))


def test_hpo_cg_script_tunes_digits_and_reports_one_line_errors(tmp_path, capsys):
    spec = spec_from_file_location("hpo_cg_script", ROOT / "exps" / "hpo-cg.py")
    script = module_from_spec(spec)
    spec.loader.exec_module(script)
    assert script.main(["--penalty", "row", "--iterations", "6", "--save-dir", str(tmp_path / "run")]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 7 and lines[0].startswith("k=  1 lambda=[")
    result = json.loads(lines[-1])
    assert result == json.loads((tmp_path / "run" / "result.json").read_text())
    assert result["num_hyper"] == 8 and len(result["final"]["hyper"]) == 8
    assert result["final"]["valid_loss"] < 0.5 * result["initial"]["valid_loss"]
    assert len((tmp_path / "run" / "history.jsonl").read_text().splitlines()) == 6
    with pytest.raises(SystemExit) as stop:
        run_main(script.main, ["--lower", "10", "--upper", "1", "--save-dir", str(tmp_path / "bad")])
    error = capsys.readouterr().err
    assert stop.value.code == 2 and error.count("\n") == 1 and error.startswith("error: ") and "lower" in error
    assert not (tmp_path / "bad").exists()

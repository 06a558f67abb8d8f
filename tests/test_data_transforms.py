"""Augmentation behaviour: the fused uint8 pipeline against the step-by-step transforms, crop, flip, cutout, lighting."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from autodl.data.transforms import Compose, Cutout, ImagePipeline, Lighting, Normalize, RandomCrop, ToFloat

MEAN, STD = (0.49, 0.48, 0.45), (0.25, 0.24, 0.26)


def image(seed: int = 0, size: int = 32) -> torch.Tensor:
    return torch.randint(0, 256, (3, size, size), dtype=torch.uint8, generator=torch.Generator().manual_seed(seed))


def reference(raw: torch.Tensor, flip: bool, top: int, left: int, centre, padding=4, size=32, length=16):
    x = raw.flip(-1) if flip else raw
    x = F.pad(x, [padding] * 4)[:, top:top + size, left:left + size]
    x = Normalize(MEAN, STD)(ToFloat()(x))
    if centre is not None:
        y, c = centre
        x = x.clone()
        x[:, max(0, y - length // 2):y + length // 2, max(0, c - length // 2):c + length // 2] = 0
    return x


def test_pipeline_equals_the_step_by_step_transforms():
    pipeline = ImagePipeline(MEAN, STD, crop_size=32, padding=4, flip=True, cutout=16)
    raw = image()
    for flip, top, left, centre in [(False, 4, 4, None), (True, 0, 8, (0, 0)), (True, 7, 2, (31, 5)), (False, 8, 0, (16, 16))]:
        got = pipeline.apply(raw, flip, (top, left), centre)
        assert got.dtype == torch.float32 and got.shape == (3, 32, 32)
        assert torch.allclose(got, reference(raw, flip, top, left, centre), atol=1e-5)


def test_padding_is_zero_pixels_before_normalisation():
    pipeline = ImagePipeline(MEAN, STD, crop_size=32, padding=4)
    out = pipeline.apply(image(), False, (0, 0))  # 4 rows and columns of padding on top and left
    padded_value = torch.tensor([-m / s for m, s in zip(MEAN, STD)])
    assert torch.allclose(out[:, :4, :].mean(dim=(1, 2)), padded_value, atol=1e-5)
    assert torch.allclose(out[:, 4:, 4:], pipeline.apply(image())[:, :28, :28], atol=1e-6)


def test_test_transform_is_plain_normalisation():
    raw = image(3)
    assert torch.allclose(ImagePipeline(MEAN, STD)(raw), Normalize(MEAN, STD)(raw.float() / 255), atol=1e-6)
    assert not ImagePipeline(MEAN, STD).is_random


def test_random_pipeline_is_reproducible_and_covers_all_offsets():
    pipeline = ImagePipeline(MEAN, STD, crop_size=32, padding=4, flip=True, cutout=16)
    raw = image()
    torch.manual_seed(7)
    first = [pipeline(raw) for _ in range(5)]
    torch.manual_seed(7)
    assert all(torch.equal(a, pipeline(raw)) for a in first)
    crop_only = ImagePipeline(MEAN, STD, crop_size=32, padding=4)
    marker = torch.zeros(3, 32, 32, dtype=torch.uint8)
    marker[:, 16, 16] = 255  # find where the centre pixel lands
    torch.manual_seed(0)
    offsets = set()
    for _ in range(600):
        out = crop_only(marker)[0]
        row, col = divmod(int(out.argmax()), 32)
        offsets.add((row, col))
    assert offsets == {(r, c) for r in range(12, 21) for c in range(12, 21)}  # all 9 x 9 crop positions
    flips = ImagePipeline(MEAN, STD, flip=True)
    torch.manual_seed(1)
    flipped = sum(bool(flips(marker)[0, 16, 15] > 0) for _ in range(2000))
    assert 900 < flipped < 1100


def test_cutout_square_size_and_clipping():
    pipeline = ImagePipeline(MEAN, STD, cutout=16)
    raw = image(5)
    assert int((pipeline.apply(raw, centre=(16, 16))[0] == 0).sum()) == 256  # a full 16 x 16 square
    assert int((pipeline.apply(raw, centre=(0, 0))[0] == 0).sum()) == 64  # clipped to 8 x 8 in the corner
    assert int((pipeline.apply(raw, centre=(31, 10))[0] == 0).sum()) == 9 * 16
    torch.manual_seed(2)  # the step-by-step class keeps its semantics: centre drawn as y then x
    y, x = int(torch.randint(32, ())), int(torch.randint(32, ()))
    expected = (min(32, y + 8) - max(0, y - 8)) * (min(32, x + 8) - max(0, x - 8))
    torch.manual_seed(2)
    assert int((Cutout(16)(torch.ones(3, 32, 32))[0] == 0).sum()) == expected


def test_lighting_adds_one_colour_shift_per_image():
    x = torch.rand(3, 8, 8)
    assert torch.equal(Lighting(0.0)(x), x)
    torch.manual_seed(4)
    out = Lighting(0.1)(x)
    torch.manual_seed(4)
    alpha = torch.randn(3) * 0.1
    shift = torch.tensor(Lighting.EIGVEC) @ (alpha * torch.tensor(Lighting.EIGVAL))
    assert torch.allclose(out - x, shift.view(3, 1, 1).expand(3, 8, 8), atol=1e-6)


def test_compose_of_torch_transforms_still_works_on_uint8():
    torch.manual_seed(0)
    out = Compose([RandomCrop(32, 4), ToFloat(), Normalize(MEAN, STD)])(image())
    assert out.shape == (3, 32, 32) and out.dtype == torch.float32

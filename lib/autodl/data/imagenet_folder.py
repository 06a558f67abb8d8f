"""ImageNet-1k read from an ImageFolder tree (``<root>/train/<class>/*.JPEG``, ``<root>/val/<class>/*.JPEG``).

Two training recipes (spec 5.1): ``imagenet-1k`` (RandomResizedCrop 224, ColorJitter 0.4/0.4/0.4
hue 0.2, PCA lighting std 0.1, flip) and ``imagenet-1k-s`` (RandomResizedCrop 224 scale (0.2, 1),
flip).  Test: resize 256, centre crop 224.  Images are decoded with PIL by torchvision.
"""
from __future__ import annotations

from pathlib import Path

from ..errors import DataError
from .registry import Datasets, register_dataset
from .transforms import Cutout, Lighting

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
IMAGENET_HINT = (
    "download ILSVRC2012 from https://image-net.org/download-images and arrange it as <root>/train/<wnid>/*.JPEG "
    "and <root>/val/<wnid>/*.JPEG (one folder per class in both), then pass --data-path <root>"
)


def imagenet_transforms(recipe: str, cutout: int):
    """(train, test) torchvision pipelines for ``recipe`` 'full' (imagenet-1k) or 'simple' (imagenet-1k-s)."""
    from torchvision import transforms as tv

    if recipe == "full":
        augment = [tv.RandomResizedCrop(224), tv.ColorJitter(brightness=0.4, contrast=0.4, saturation=0.4, hue=0.2)]
    else:
        augment = [tv.RandomResizedCrop(224, scale=(0.2, 1.0))]
    augment += [tv.RandomHorizontalFlip(), tv.ToTensor()]
    if recipe == "full":
        augment.append(Lighting(0.1))  # per-pixel colour shift: commutes with the flip
    augment.append(tv.Normalize(IMAGENET_MEAN, IMAGENET_STD))
    if cutout > 0:
        augment.append(Cutout(cutout))
    test = tv.Compose([tv.Resize(256), tv.CenterCrop(224), tv.ToTensor(), tv.Normalize(IMAGENET_MEAN, IMAGENET_STD)])
    return tv.Compose(augment), test


def open_image_folder(folder: Path, transform):
    """A torchvision ImageFolder over ``folder``, or a DataError naming the folder and how to obtain the data."""
    from torchvision import datasets as tv_datasets

    if not folder.is_dir():
        raise DataError(f"imagenet-1k: {folder} does not exist; {IMAGENET_HINT}")
    try:
        return tv_datasets.ImageFolder(str(folder), transform=transform)
    except (FileNotFoundError, RuntimeError) as error:
        raise DataError(f"imagenet-1k: {folder} holds no class folders with images ({error}); {IMAGENET_HINT}") from error


def build_imagenet(root: Path, cutout: int, recipe: str) -> Datasets:
    """Train (``root/train``) and test (``root/val``) ImageFolder sets with the ``recipe`` augmentation."""
    root = Path(root).expanduser()
    train_transform, test_transform = imagenet_transforms(recipe, cutout)
    train = open_image_folder(root / "train", train_transform)
    test = open_image_folder(root / "val", test_transform)
    if train.classes != test.classes:
        raise DataError(f"imagenet-1k: {root / 'train'} and {root / 'val'} have different class folders "
                        f"({len(train.classes)} vs {len(test.classes)}); both must hold one folder per class")
    return Datasets(train, test, (1, 3, 224, 224), len(train.classes))


register_dataset("imagenet-1k")(lambda root, cutout: build_imagenet(root, cutout, "full"))
register_dataset("imagenet-1k-s")(lambda root, cutout: build_imagenet(root, cutout, "simple"))

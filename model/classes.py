"""The ten Fashion-MNIST classes, in label order, and their coarse groups.

This module is the one place that owns class names; everything else imports them.
"""

CLASS_NAMES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)

NUM_CLASSES = len(CLASS_NAMES)

# Coarse groups used to score real photos: a pullover called a coat is still a top.
GROUPS = {
    "tops": (0, 2, 4, 6),
    "bottoms": (1,),
    "dresses": (3,),
    "footwear": (5, 7, 9),
    "bags": (8,),
}


def group_of(class_index: int) -> str:
    """Returns the name of the coarse group that a class index belongs to."""
    for group_name, members in GROUPS.items():
        if class_index in members:
            return group_name
    raise ValueError(f"Class index must be in 0..{NUM_CLASSES - 1}, got {class_index}.")

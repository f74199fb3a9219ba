"""The training stages behind a fine-tuned model: a walk back through model cards.

Used by experiments/widen.py and experiments/interpolate.py, whose cards list every earlier
stage (the start model's card, its start's, ...). model.train writes only its own start
(training.init_from) into a card.
"""

from __future__ import annotations

from model.card import read_card


def earlier_stages(init_from: str) -> list:
    """The training stages behind a fine-tuned model, read from the card next to its file."""
    if not init_from:
        return []
    card = read_card(init_from)
    if not card:
        return [{"model": init_from, "note": "no model card found next to it"}]
    stage = {"model": init_from, "epochs_run": card.get("epochs_run"),
             "wall_time_seconds": card.get("wall_time_seconds"),
             "validation_accuracy": card.get("validation_accuracy"),
             "training": card.get("training")}
    # A card without earlier_stages still names its own starting point (init_from).
    before = card["earlier_stages"] if "earlier_stages" in card else \
        earlier_stages((card.get("training") or {}).get("init_from", ""))
    return before + [stage]

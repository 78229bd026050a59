"""How a name is shown on a board (pure).

Elderly volunteers must not be exposed: a name is masked unless its owner
chose to show it. Masking keeps enough for a neighbour to recognise a
friend and no more:

- three or more characters: first and last kept, the middle starred, one
  star per hidden character (张小英 → 张*英, 欧阳小明 → 欧**明);
- two characters: the first kept (李明 → 李*);
- one character: starred whole (明 → *), so a one-character name is not shown;
- names written with spaces (non-Han names: "Anna Maria Smith") keep the
  first letter of each word (A*** M**** S****), so a family name is never
  shown whole either.
"""

from __future__ import annotations

from community.names import STAR, mask_name

__all__ = ["STAR", "mask_name", "shown_name"]


def shown_name(name: str, *, full_name_shown: bool) -> str:
    return " ".join(name.split()) if full_name_shown else mask_name(name)

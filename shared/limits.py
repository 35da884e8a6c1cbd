"""Facts of the event contract defined once: each metric's default scale and each field's length.

Standard library only, so that the pure model (``services/analyzer/model``), the pydantic schemas
(``shared/events.py``) and the vendor adapters all read the same numbers.
"""

from __future__ import annotations

from typing import Final

# metric -> (min, max, higher_is_better); a `rating` has no default and must carry its scale.
DEFAULT_SCALE_BOUNDS: Final[dict[str, tuple[float, float, bool]]] = {
    "nps": (0, 10, True),
    "csat": (1, 5, True),
    "ces": (1, 5, False),  # 1 = least effort = best
    "neteasy": (1, 7, False),  # 1 = extremely easy = best
}

MAX_EVENT_ID_CHARS: Final = 128
MAX_ACCOUNT_ID_CHARS: Final = 128
MAX_PERSON_ID_CHARS: Final = 256
MAX_ALIAS_CHARS: Final = 256
MAX_LABEL_CHARS: Final = 64
MAX_RESPONSE_ID_CHARS: Final = 256
MAX_NAME_CHARS: Final = 256
MAX_COMMENT_CHARS: Final = 10_000
MAX_ALIASES: Final = 100
MAX_IDENTITIES: Final = 20
MAX_ATTRIBUTES_BYTES: Final = 16_384

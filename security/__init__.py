"""What keeps untrusted flows, templates, documents, URLs and clients bounded.

One mechanism per concern, reused by every layer that needs it: `Limits` (every bound, one
object in settings), the egress guard, the template budget. It imports nothing of ours but
`events`, so activities, workflows and the gateway can all use it.
"""

from flowmaestro.security.errors import LimitExceededError, SecurityError
from flowmaestro.security.limits import Limits
from flowmaestro.security.storable import storable, unstorable_path

__all__ = ["LimitExceededError", "Limits", "SecurityError", "storable", "unstorable_path"]

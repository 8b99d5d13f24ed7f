"""hybridwatch: quantified hybrid-threat assessment from open multi-domain event data."""

from hybridwatch.errors import HybridwatchError, InputError

__version__ = "0.1.0"
__all__ = ["HybridwatchError", "InputError", "__version__"]

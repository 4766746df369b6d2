"""The scenario language: pydantic models and shared constrained types."""

from supplychain.schema.model import Scenario
from supplychain.schema.types import Quantity

__all__ = ["Quantity", "Scenario"]

"""xinyong (信用): public credit information platform with credit-based supervision."""

__version__ = "0.1.0"

"""mailbot: the 政务信息报送 desk of a government office, run over plain email."""

__version__ = "0.1.0"

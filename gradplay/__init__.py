"""gradplay: a desktop playground that makes gradients visible."""
__version__ = "0.1.0"

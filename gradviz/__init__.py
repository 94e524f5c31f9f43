"""gradviz: make PyTorch autograd visible."""

__version__ = "0.1.0"

#: The commands that run without a window (``gradviz inspect|render|doctor``): the entry point
#: (``gradviz.launch``) starts the engine ahead for them, the command line (``gradviz.cli``) parses them.
HEADLESS = ("inspect", "render", "doctor")

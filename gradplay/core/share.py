"""A setup as text to share: the config as TOML a person can read, and a `gradplay://` line that fits
in a chat message (the same TOML, deflated and base64url-encoded).

`gradplay gradplay://…` opens a link, Edit → Paste setup reads either form from the clipboard.
Reading is bounded like a config file: at most config.MAX_CONFIG_BYTES of TOML, before or after
inflating.
"""
from __future__ import annotations

import base64
import binascii
import re
import zlib

from . import config

SCHEME = "gradplay://"
_LINK = re.compile(r"gradplay://([A-Za-z0-9_-]*)")


def link(cfg: dict) -> str:
    """The one-line form of a resolved config."""
    data = zlib.compress(config.dumps(cfg).encode("utf-8"), 9)
    return SCHEME + base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def text(cfg: dict) -> str:
    """What Copy setup puts on the clipboard: the TOML, then its link as a TOML comment (so the whole
    text is still a config file)."""
    title = cfg["meta"].get("title") or "gradplay setup"
    return f"# {title}\n{config.dumps(cfg)}\n# one line to share: {link(cfg)}\n"


def parse(pasted: str) -> dict:
    """The resolved config in pasted text: a `gradplay://` link anywhere in it, else the text as TOML.
    ConfigError with the reason for anything else."""
    if len(pasted) > 2 * config.MAX_CONFIG_BYTES:
        raise config.ConfigError(f"the pasted text is {len(pasted):,} characters; a setup is at most "
                                 f"{config.MAX_CONFIG_BYTES:,} bytes of TOML")
    match = _LINK.search(pasted)
    if match is None:
        if not pasted.strip():
            raise config.ConfigError("nothing to paste: the clipboard holds no text")
        return config.loads(pasted, "the pasted setup")
    code = match.group(1)
    try:
        data = base64.urlsafe_b64decode(code + "=" * (-len(code) % 4))
        inflate = zlib.decompressobj()
        toml = inflate.decompress(data, config.MAX_CONFIG_BYTES + 1)
        if len(toml) > config.MAX_CONFIG_BYTES or inflate.unconsumed_tail:
            raise config.ConfigError(f"the gradplay:// link inflates to more than {config.MAX_CONFIG_BYTES:,} "
                                     f"bytes; a setup is smaller")
        if not inflate.eof:
            raise zlib.error("the link is cut short")
        return config.loads(toml.decode("utf-8"), "the gradplay:// link")
    except (binascii.Error, ValueError, zlib.error, UnicodeDecodeError) as e:
        if isinstance(e, config.ConfigError):
            raise
        raise config.ConfigError(f"the gradplay:// link is damaged ({e}); copy it again whole") from None

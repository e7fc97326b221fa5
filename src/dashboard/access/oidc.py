"""Production login through Streamlit's OpenID Connect (``st.login``): identities mapped to roles.

The mapping file is TOML: ``[roles]`` with ``"person@example.org" = "dsmb"`` lines. An identity that
is not listed gets no role and sees no data.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from dashboard.access.viewer import ROLES, Viewer


def load_role_map(path: str | os.PathLike) -> dict[str, str]:
    """E-mail (lower case) -> role; unknown roles are rejected with the file and entry named."""
    p = Path(path)
    if not p.exists():
        return {}
    with open(p, "rb") as fh:
        roles = tomllib.load(fh).get("roles", {})
    for email, role in roles.items():
        if role not in ROLES:
            raise ValueError(f"{p}: role of {email!r} is {role!r}; expected one of {', '.join(ROLES)}")
    return {email.lower(): role for email, role in roles.items()}


def viewer_for_identity(email: str | None, name: str | None, role_map: dict[str, str]) -> Viewer | None:
    """The viewer for an authenticated identity, or None when the identity has no role."""
    if not email or email.lower() not in role_map:
        return None
    return Viewer(email.lower(), role_map[email.lower()], name or email)

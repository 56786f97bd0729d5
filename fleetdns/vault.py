"""Ansible Vault: decrypt whole vars files and inline `!vault` values with ansible-core's VaultLib.

ansible is imported only when an encrypted value is actually met (importing it costs ~0.7 s).
The password comes from the `vault_password_file` argument or ANSIBLE_VAULT_PASSWORD_FILE; an
executable password file is run and its output used, as Ansible does.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

VAULT_HEADER = b"$ANSIBLE_VAULT;"
PASSWORD_ENV = "ANSIBLE_VAULT_PASSWORD_FILE"


class VaultProblem(Exception):
    """Decryption is impossible; the message says why and the hint how to fix it (never a secret)."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


def is_vault_data(data: bytes) -> bool:
    return data.lstrip().startswith(VAULT_HEADER)


class Vault:
    """Decrypts with one password, read on first use."""

    def __init__(self, password_file: str | None = None) -> None:
        self._password_file = password_file or os.environ.get(PASSWORD_ENV) or None
        self._lib: Any = None

    @property
    def password_source(self) -> str:
        return self._password_file or "(none)"

    def decrypt(self, ciphertext: str | bytes, what: str = "value") -> str:
        """Plain text of vault data; VaultProblem when there is no password or it is wrong.

        `what` ("value" or "file") is what the messages call the encrypted thing."""
        lib = self._vault_lib(what)
        from ansible.errors import AnsibleError

        data = ciphertext.encode() if isinstance(ciphertext, str) else ciphertext
        try:
            plaintext = lib.decrypt(data.strip())
        except AnsibleError as exc:
            text = str(exc)
            if "Decryption failed" in text or "no vault secrets" in text:
                raise VaultProblem(
                    f"cannot decrypt this vault-encrypted {what} with the password from {self._password_file}",
                    f"the vault password is wrong for this {what}; check the password file",
                ) from None
            raise VaultProblem(
                f"this is not valid vault data: {text.splitlines()[0] if text else type(exc).__name__}",
                "re-create it with: ansible-vault encrypt_string (or ansible-vault encrypt for a file)",
            ) from None
        try:
            return plaintext.decode("utf-8")
        except UnicodeDecodeError:
            raise VaultProblem("the decrypted vault data is not UTF-8 text", "encrypt text, not binary data") from None

    def _vault_lib(self, what: str) -> Any:
        if self._lib is not None:
            return self._lib
        if not self._password_file:
            raise VaultProblem(
                f"this {what} is vault-encrypted but no vault password was given",
                f"pass --vault-password-file FILE or set {PASSWORD_ENV}",
            )
        password = _read_password(self._password_file)
        from ansible.parsing.vault import VaultLib, VaultSecret

        self._lib = VaultLib([("default", VaultSecret(password))])
        return self._lib


def _read_password(filename: str) -> bytes:
    """Password bytes from a file, or from the output of an executable file (Ansible's rules)."""
    path = Path(filename).expanduser()
    if not path.is_file():
        raise VaultProblem(f"vault password file {filename} does not exist", f"create it or fix {PASSWORD_ENV}")
    if os.access(path, os.X_OK):
        try:
            result = subprocess.run([str(path)], capture_output=True, check=False, timeout=60)
        except OSError as exc:
            raise VaultProblem(f"cannot run vault password script {filename}: {exc.strerror}", "check it") from None
        if result.returncode != 0:
            raise VaultProblem(
                f"vault password script {filename} failed with exit code {result.returncode}",
                "run it by hand to see why",
            )
        password = result.stdout.strip()
    else:
        try:
            password = path.read_bytes().strip()
        except OSError as exc:
            raise VaultProblem(
                f"cannot read vault password file {filename}: {exc.strerror}", "check its mode"
            ) from None
    if not password:
        raise VaultProblem(f"vault password file {filename} is empty", "put the vault password in it")
    return password

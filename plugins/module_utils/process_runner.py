"""How the engine runs a program: through `command_runner`, which the front sets.

Engine modules start no processes themselves: inside Ansible a module must go through
AnsibleModule.run_command, so dns_record sets a runner over it; the CLI and the agent set a
subprocess runner. Used for named-checkzone before a zone file is installed and for the agent's
command address source; without a runner those steps are skipped or refused, with a reason.
"""

from __future__ import annotations

from collections.abc import Callable

# (argv, timeout in seconds) -> (exit code, stdout + stderr); raises TimeoutError or OSError.
CommandRunner = Callable[[list[str], float], tuple[int, str]]
command_runner: CommandRunner | None = None

"""Chat commands (nivel, progreso, pronunciar, borrar, exportar, perfil) and onboarding.

The processor calls ``CommandCenter.handle`` before the orchestrator; see :mod:`.center` for the words
and ids, and :class:`.result.CommandResult` for what the processor does with each field.
"""

from espaluz.tutor.commands.center import CommandCenter, build_commands
from espaluz.tutor.commands.result import CommandResult, Document

__all__ = ["CommandCenter", "CommandResult", "Document", "build_commands"]

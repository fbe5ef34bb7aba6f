"""The n8n workflow library: load and check local definitions, diff them against the
server, deploy them by name."""

from masterops.workflows.deploy import DeployResult, PlatformAccess, bound_for_diff, deploy
from masterops.workflows.diff import WorkflowDiff, compare, diff_library
from masterops.workflows.library import (
    MANAGED_TAG,
    LibraryError,
    Problem,
    WorkflowDefinition,
    load_library,
)
from masterops.workflows.remote import WorkflowNotFound, find_workflow, pick_workflow

__all__ = [
    "MANAGED_TAG",
    "DeployResult",
    "LibraryError",
    "PlatformAccess",
    "Problem",
    "WorkflowDefinition",
    "WorkflowDiff",
    "WorkflowNotFound",
    "bound_for_diff",
    "compare",
    "deploy",
    "diff_library",
    "find_workflow",
    "load_library",
    "pick_workflow",
]

"""Drive's error envelope: `{"error": {"code", "message", "errors": [{domain, reason, message,
location?, locationType?}]}}`, https://developers.google.com/workspace/drive/api/guides/handle-errors ."""

from __future__ import annotations

from twins._workspace.errors import GoogleError, GoogleErrorAdapter, invalid_value, required

ADAPTER = GoogleErrorAdapter("drive", "drive.googleapis.com")


def file_not_found(file_id: str, location: str = "fileId") -> GoogleError:
    """Unknown file, or one the caller cannot see: Drive does not tell them apart."""
    return GoogleError(
        f"File not found: {file_id}.",
        status=404,
        reason="notFound",
        location=location,
        location_type="parameter",
    )


def insufficient_file_permissions() -> GoogleError:
    return GoogleError(
        "The user does not have sufficient permissions for this file.",
        status=403,
        reason="insufficientFilePermissions",
    )


def permission_not_found(permission_id: str) -> GoogleError:
    return GoogleError(
        f"Permission not found: {permission_id}.",
        status=404,
        reason="notFound",
        location="permissionId",
        location_type="parameter",
    )


def revision_not_found(revision_id: str) -> GoogleError:
    return GoogleError(
        f"Revision not found: {revision_id}.",
        status=404,
        reason="notFound",
        location="revisionId",
        location_type="parameter",
    )


def invalid_fields(selection: str) -> GoogleError:
    return GoogleError(
        f"Invalid field selection {selection}",
        status=400,
        reason="invalidParameter",
        location="fields",
        location_type="parameter",
    )


def invalid_query() -> GoogleError:
    return invalid_value("q")


def bad_request(message: str, reason: str = "badRequest") -> GoogleError:
    return GoogleError(message, status=400, reason=reason)


__all__ = [
    "ADAPTER",
    "GoogleError",
    "bad_request",
    "file_not_found",
    "insufficient_file_permissions",
    "invalid_fields",
    "invalid_query",
    "invalid_value",
    "permission_not_found",
    "required",
    "revision_not_found",
]

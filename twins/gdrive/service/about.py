"""Drive `about.get`: the caller and their storage quota.
https://developers.google.com/workspace/drive/api/reference/rest/v3/about/get"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from dtu.context import TwinContext
from twins._workspace import common, store
from twins.gdrive.service.common import EXPORTS, caller
from twins.gdrive.service.files import IMPORTS_ABOUT

F = store.F


def about(ctx: TwinContext) -> dict[str, Any]:
    me = caller(ctx)
    person = store.principal(ctx, me.email)
    used = (
        ctx.conn.execute(
            select(func.coalesce(func.sum(F.c.size), 0)).where(
                F.c.tenant_id == ctx.tenant, F.c.owner == me.email
            )
        ).scalar()
        or 0
    )
    trash = (
        ctx.conn.execute(
            select(func.coalesce(func.sum(F.c.size), 0)).where(
                F.c.tenant_id == ctx.tenant, F.c.owner == me.email, F.c.trashed.is_(True)
            )
        ).scalar()
        or 0
    )
    limit = person.quota_limit if person is not None else 15 * 1024**3
    return {
        "kind": "drive#about",
        "user": {
            "kind": "drive#user",
            "displayName": person.display_name if person is not None else me.email,
            "photoLink": "https://lh3.googleusercontent.com/a/default-user=s64",
            "me": True,
            "permissionId": person.permission_id if person is not None else store.permission_id_for(me.email),
            "emailAddress": me.email,
        },
        "storageQuota": {
            "limit": str(limit),
            "usage": str(int(used)),
            "usageInDrive": str(int(used)),
            "usageInDriveTrash": str(int(trash)),
        },
        "importFormats": IMPORTS_ABOUT,
        "exportFormats": EXPORTS,
        "maxImportSizes": {common.DOCUMENT: "10485760", common.SPREADSHEET: "104857600"},
        "maxUploadSize": "5242880000000",
        "appInstalled": False,
        "folderColorPalette": [
            "#ac725e",
            "#d06b64",
            "#f83a22",
            "#fa573c",
            "#ff7537",
            "#ffad46",
            "#42d692",
            "#16a765",
            "#7bd148",
            "#b3dc6c",
            "#fbe983",
            "#fad165",
            "#92e1c0",
            "#9fe1e7",
            "#9fc6e7",
            "#4986e7",
            "#9a9cff",
            "#b99aff",
            "#c2c2c2",
            "#cabdbf",
            "#cca6ac",
            "#f691b2",
            "#cd74e6",
            "#a47ae2",
        ],
        "canCreateDrives": True,
        "canCreateTeamDrives": True,
        "driveThemes": [],
        "teamDriveThemes": [],
    }

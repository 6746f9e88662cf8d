"""The Google Workspace store shared by the three Google twins (Drive, Sheets, Docs).

In Google Workspace a spreadsheet and a document are Drive files: they have a Drive id,
parents, permissions, revisions and a place in `files.list`. So the three Google twins are
three front doors over one set of tables (`workspace_*`: customers, principals, tokens,
service accounts, files, parents, permissions, revisions, changes, and the content of Docs
Editors files) defined here, with the services every door needs: OAuth (`oauth`), access
checks and the file graph (`store`), the content of spreadsheets and documents (`content`),
who sees which change (`changelog`), Drive's push notifications, sent on every recorded change
whichever door wrote it (`push`), Google's batch endpoint (`batch`), and the TwinSpec that makes
a twin one of the doors
(`twin.google_twin`). Wire formats stay in each twin. This package is not a twin: twins import
it, it imports no twin.
"""

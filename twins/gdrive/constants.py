"""Drive's documented limits, with where they are written down."""

# https://developers.google.com/workspace/drive/api/reference/rest/v3/files/list : pageSize
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
# https://developers.google.com/workspace/drive/api/guides/properties : 124 bytes per key+value
MAX_PROPERTY_BYTES = 124
# https://developers.google.com/workspace/drive/api/guides/manage-uploads : 5 MB for simple uploads
# (the twin accepts more); resumable chunks are multiples of 256 KiB except the last
SIMPLE_UPLOAD_MAX = 5 * 1024 * 1024
CHUNK_GRANULARITY = 256 * 1024
# https://developers.google.com/workspace/drive/api/reference/rest/v3/files/export : 10 MB export cap
EXPORT_MAX = 10 * 1024 * 1024
# https://developers.google.com/workspace/drive/api/guides/limits : 12,000 queries per 60 s per
# project, and as many per user
QUERIES_PER_MINUTE = 12_000
QUERIES_PER_MINUTE_PER_USER = 12_000
# Largest request body the twin reads (uploads included); Google's cap is 5 TB.
MAX_BODY_BYTES = 256 * 1024 * 1024
# https://developers.google.com/workspace/drive/api/guides/push : channel lifetimes (default 1 h;
# at most 1 day for a file, 1 week for changes); the messages' retries are twins/_workspace/push.py's
CHANNEL_DEFAULT_TTL_S = 3600
CHANNEL_MAX_TTL_FILE_S = 86_400
CHANNEL_MAX_TTL_CHANGES_S = 604_800
# https://developers.google.com/workspace/drive/api/guides/performance#batch-requests : 100 calls
# per batch request (googleapiclient itself allows 1000)
BATCH_MAX_CALLS = 100

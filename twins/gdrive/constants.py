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
# https://developers.google.com/workspace/drive/api/guides/limits : 12,000 queries per 60 s per user
QUERIES_PER_MINUTE_PER_USER = 12_000
# Largest request body the twin reads (uploads included); Google's cap is 5 TB.
MAX_BODY_BYTES = 256 * 1024 * 1024

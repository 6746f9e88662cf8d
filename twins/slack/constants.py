"""Slack's documented limits, with where they are written down."""

# https://docs.slack.dev/reference/methods/chat.postMessage#truncating-content
MAX_TEXT = 40_000
# https://docs.slack.dev/reference/methods/chat.postMessage : markdown_text, 12,000 characters
MAX_MARKDOWN_TEXT = 12_000
# https://docs.slack.dev/reference/block-kit/blocks : up to 50 blocks per message, 100 in modals
MAX_BLOCKS_MESSAGE = 50
MAX_BLOCKS_VIEW = 100
# https://docs.slack.dev/apis/web-api/pagination : "limit" default and maximum
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
HISTORY_MAX_LIMIT = 999
# https://docs.slack.dev/reference/methods/conversations.create : names
MAX_CHANNEL_NAME = 80
# https://docs.slack.dev/reference/methods/chat.scheduleMessage : up to 120 days ahead
MAX_SCHEDULE_AHEAD_S = 120 * 24 * 3600
# https://docs.slack.dev/apis/events-api/#retries : 3 s to answer; retries ~now, 1 min, 5 min
EVENT_TIMEOUT_S = 3.0
EVENT_RETRIES_S = [0.0, 60.0, 300.0]
# https://docs.slack.dev/interactivity/handling-user-interaction#modal_responses : trigger ids live 3 s
TRIGGER_TTL_S = 3.0
# https://docs.slack.dev/interactivity/handling-user-interaction#message_responses : 5 uses in 30 min
RESPONSE_URL_USES = 5
RESPONSE_URL_TTL_S = 30 * 60
# https://docs.slack.dev/apis/web-api/rate-limits : tiers, calls per minute
TIER_PER_MINUTE = {"t1": 1, "t2": 20, "t3": 50, "t4": 100, "t5": 60}
# chat.postMessage: about one message per second per channel, short bursts allowed
POST_PER_CHANNEL_WINDOW_S = 5.0
POST_PER_CHANNEL_LIMIT = 5
# https://docs.slack.dev/authentication/verifying-requests-from-slack : 5-minute replay window
SIGNATURE_WINDOW_S = 300

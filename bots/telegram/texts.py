"""What the Telegram connector itself says (binding, notices, refusals), in zh, en and ko.

The questionnaire's own texts come from the dialogue; these are only the connector's. ``text(key, language,
**fields)`` falls back to Chinese.
"""

from __future__ import annotations

__all__ = ["RECEIVED_BUTTON", "START_BUTTON", "language_of", "text"]

RECEIVED_BUTTON = "收到 / Received"
START_BUTTON = "开始填写 / Start"

_TEXTS: dict[str, dict[str, str]] = {
    "ask_bind": {
        "zh": "请先确认您的身份：点下面的按钮分享您的手机号，或者发送您登记的手机号和网格员给您的8位验证码，"
              "例如：13800138000 12345678",
        "en": "First, let us know who you are: tap the button below to share your phone number, or send your "
              "registered phone number and the 8-digit code your grid worker gave you, e.g. 13800138000 12345678",
        "ko": "먼저 본인 확인을 해 주세요. 아래 버튼으로 전화번호를 공유하시거나 등록된 전화번호와 담당자가 준 8자리 코드를 "
              "함께 보내 주세요 (예: 01012345678 12345678).",
    },
    "share_phone": {"zh": "📱 分享我的手机号", "en": "📱 Share my phone number", "ko": "📱 내 전화번호 공유"},
    "bound": {
        "zh": "谢谢，已确认您是{community}的居民{name}。",
        "en": "Thank you, {name}: you are registered as a resident of {community}.",
        "ko": "감사합니다. {community} 주민 {name}님으로 확인되었습니다.",
    },
    "phone_unknown": {
        "zh": "这个手机号不在我们的居民名单里。请发送您登记的手机号和网格员给您的8位验证码，或者联系网格员登记。",
        "en": "That phone number is not on our resident list. Please send your registered phone number and the "
              "8-digit code from your grid worker, or ask them to register you.",
        "ko": "이 전화번호는 주민 명단에 없습니다. 등록된 전화번호와 담당자가 준 8자리 코드를 함께 보내 주세요.",
    },
    "not_own_contact": {
        "zh": "请分享您本人的手机号（点下面的按钮）。",
        "en": "Please share your own phone number (tap the button below).",
        "ko": "본인의 전화번호를 공유해 주세요 (아래 버튼).",
    },
    "code_not_valid": {
        "zh": "手机号或验证码不对，或者验证码已用过、已过期。请核对后再发，或向网格员要一个新的验证码。",
        "en": "The phone number or the code is not right, or the code was used or has expired. Please check and "
              "send them again, or ask your grid worker for a new code.",
        "ko": "전화번호나 코드가 맞지 않거나, 이미 사용되었거나 만료된 코드입니다. 확인 후 다시 보내거나 담당자에게 새 코드를 "
              "요청하세요."},
    "code_too_many": {"zh": "尝试次数过多，请一小时后再试，或联系网格员。",
                      "en": "Too many tries; please try again in an hour, or ask your grid worker.",
                      "ko": "시도 횟수가 너무 많습니다. 한 시간 후에 다시 시도하거나 담당자에게 문의하세요."},
    "code_bad_phone": {"zh": "手机号格式不对，请检查后再发一次，例如：13800138000 12345678",
                       "en": "That phone number does not look right; please check it, e.g. 13800138000 12345678",
                       "ko": "전화번호 형식이 맞지 않습니다. 확인 후 다시 보내 주세요."},
    "code_need_phone": {"zh": "请把您登记的手机号和验证码一起发送，例如：13800138000 12345678",
                        "en": "Please send your registered phone number together with the code, e.g. "
                              "13800138000 12345678",
                        "ko": "등록된 전화번호와 코드를 함께 보내 주세요 (예: 01012345678 12345678)."},
    "unsupported": {"zh": "请用文字或者按钮回答。", "en": "Please answer in text or with the buttons.",
                    "ko": "글자나 버튼으로 답해 주세요."},
    "too_long": {"zh": "这条消息太长了，回答请不要超过{limit}个字。",
                 "en": "That message is too long; please keep answers under {limit} characters.",
                 "ko": "메시지가 너무 깁니다. {limit}자 이내로 답해 주세요."},
    "edited": {"zh": "修改过的消息不会当作回答。如需更正，请直接再发一次。",
               "en": "Edited messages are not taken as answers. To correct an answer, just send it again.",
               "ko": "수정한 메시지는 답변으로 받지 않습니다. 다시 보내 주세요."},
    "stale_button": {"zh": "这个按钮已失效，请回答最新的问题。", "en": "That button is no longer active; please answer the latest question.",
                     "ko": "지난 버튼입니다. 최근 질문에 답해 주세요."},
    "answer_taken": {"zh": "已收到", "en": "Got it", "ko": "받았습니다"},
    "link_invalid": {"zh": "这个链接已失效，请向网格员询问。", "en": "This link is no longer valid; please ask your grid worker.",
                     "ko": "유효하지 않은 링크입니다. 담당자에게 문의하세요."},
    "welcome": {"zh": "您好，{name}。网格员会在群里发排查链接；您也可以发送「开始排查」。",
                "en": "Hello, {name}. Your grid worker posts screenings in the group; you can also send \"start screening\".",
                "ko": "안녕하세요, {name}님. 담당자가 단체방에 설문 링크를 올립니다."},
    "handoff": {"zh": "网格员{name}会联系您，电话：{phone}", "en": "Your grid worker {name} will contact you: {phone}",
                "ko": "담당자 {name}님이 연락드립니다: {phone}"},
    "receipt_ok": {"zh": "已确认收到，谢谢。", "en": "Receipt recorded, thank you.", "ko": "수신 확인되었습니다."},
    "receipt_other_grid": {"zh": "这条通知不是发给您所在网格的，未记录。", "en": "This notice was not sent to your grid; nothing "
                                                                     "was recorded.",
                           "ko": "이 공지는 주민님의 격자에 보낸 것이 아니어서 기록하지 않았습니다."},
    "receipt_bind": {"zh": "请先私聊我确认身份，再点「收到」。", "en": "Please confirm who you are in a private chat with me first.",
                     "ko": "먼저 저와의 개인 대화에서 본인 확인을 해 주세요."},
    # grid workers
    "worker_linked": {
        "zh": "{name}您好，已确认您是{grid}网格的网格员。\n在群里发送 /bind {grid} 绑定群；私聊我：\n"
              "/notice 通知内容 — 发通知到本网格所有群\n/screen [问卷] — 在群里发起排查\n/code 居民手机号 — 给居民一次性验证码",
        "en": "Hello {name}, you are confirmed as the grid worker of {grid}.\nIn a group send /bind {grid}; here:\n"
              "/notice text — send a notice to every group of your grid\n/screen [questionnaire] — start a screening\n"
              "/code resident-phone — a one-time code for a resident",
        "ko": "{name}님, {grid} 격자 담당자로 확인되었습니다. 단체방에서 /bind {grid}",
    },
    "not_worker": {"zh": "只有登记过的网格员可以用这个命令。网格员请先私聊我并分享手机号。",
                   "en": "Only registered grid workers can use this command. Grid workers: share your phone number "
                         "with me in a private chat first.",
                   "ko": "등록된 담당자만 사용할 수 있습니다."},
    "bind_usage": {"zh": "用法：/bind 网格编码，例如 /bind {grid}", "en": "Usage: /bind grid-code, e.g. /bind {grid}",
                   "ko": "사용법: /bind {grid}"},
    "bind_other_grid": {"zh": "您只能把群绑定到自己的网格（{grid}）。", "en": "You can bind groups to your own grid ({grid}) only.",
                        "ko": "본인 격자({grid})에만 연결할 수 있습니다."},
    "group_taken": {"zh": "本群已绑定到网格 {grid}，只有该网格的网格员或管理员可以改绑。请联系网格 {grid} 的网格员先发送 /unbind。",
                    "en": "This group is bound to grid {grid}; only that grid's worker or an administrator can rebind "
                          "it. Ask the grid worker of {grid} to send /unbind first.",
                    "ko": "이 단체방은 {grid} 격자에 연결되어 있습니다. 해당 담당자나 관리자만 바꿀 수 있습니다."},
    "bind_unknown_grid": {"zh": "没有网格 {grid}，请检查网格编码。", "en": "There is no grid {grid}; please check the code.",
                          "ko": "{grid} 격자가 없습니다. 코드를 확인해 주세요."},
    "bound_group": {"zh": "本群已绑定到网格 {grid}。通知和排查会发到这里。",
                    "en": "This group is now bound to grid {grid}; notices and screenings will be posted here.",
                    "ko": "이 단체방이 {grid} 격자에 연결되었습니다."},
    "unbound_group": {"zh": "本群已解除绑定。", "en": "This group is no longer bound to a grid.", "ko": "연결이 해제되었습니다."},
    "notice_usage": {"zh": "用法：/notice 通知内容", "en": "Usage: /notice text of the notice", "ko": "사용법: /notice 내용"},
    "no_groups": {"zh": "您的网格还没有绑定的群。请在群里发送 /bind {grid}。",
                  "en": "Your grid has no bound group yet. Send /bind {grid} in a group.",
                  "ko": "연결된 단체방이 없습니다. 단체방에서 /bind {grid}"},
    "notice_queued": {"zh": "通知已发往 {count} 个群。", "en": "The notice is going out to {count} group(s).",
                      "ko": "공지가 {count}개 단체방으로 발송됩니다."},
    "screen_usage": {"zh": "没有这个问卷。可用：{names}", "en": "No such questionnaire. Available: {names}",
                     "ko": "그런 설문이 없습니다: {names}"},
    "screen_queued": {"zh": "「{title}」已发往 {count} 个群。", "en": "\"{title}\" is going out to {count} group(s).",
                      "ko": "\"{title}\" {count}개 단체방으로 발송됩니다."},
    "screen_post": {"zh": "📋 {title}\n请点下面的按钮，在与我的私聊里填写。您的回答只有网格员能看到。",
                    "en": "📋 {title}\nTap the button below to answer in a private chat with me; only your grid worker "
                          "sees your answers.",
                    "ko": "📋 {title}\n아래 버튼을 눌러 개인 대화에서 답해 주세요."},
    "code_usage": {"zh": "用法：/code 居民手机号", "en": "Usage: /code resident-phone-number", "ko": "사용법: /code 전화번호"},
    "code_not_in_grid": {"zh": "您的网格里没有这个手机号的居民。", "en": "No resident of your grid has that phone number.",
                         "ko": "해당 전화번호의 주민이 없습니다."},
    "code_issued": {"zh": "居民{name}的一次性验证码：{code}\n72小时内有效，只能用一次。请当面或电话告诉居民；居民把自己的"
                          "手机号和验证码一起发给我（Telegram）或服务号（微信）。",
                    "en": "One-time code for {name}: {code}\nValid for 72 hours, once. Give it to the resident in person "
                          "or by phone; they send their phone number and the code to me (Telegram) or to the WeChat "
                          "account.",
                    "ko": "{name}님의 일회용 코드: {code} (72시간 유효)"},
}


def text(key: str, language: str, **fields: object) -> str:
    texts = _TEXTS[key]
    return (texts.get(language) or texts["zh"]).format(**fields)


def language_of(language_code: str | None, default: str = "zh") -> str:
    """Our language for a Telegram ``language_code`` (IETF tag) when the person is not known yet."""
    code = (language_code or "").lower()
    for lang in ("zh", "en", "ko"):
        if code == lang or code.startswith(lang + "-"):
            return lang
    return default

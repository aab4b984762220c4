"""What a reply says, with how sure we can be of it: the precision-first readers behind ``campaigns.answers``.

A reader never guesses. Besides the value it tells whether the reply was plain (``value``), hedged ("大概三十七度",
"maybe": confirm before storing), ambiguous (two values, a range, yes-words and no-words: ask again), a question
back ("有没有啊？": ask again), an explicit "I don't know / didn't measure" (``unknown``), or nothing it can read.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

__all__ = ["KINDS", "Reading", "clauses", "fold", "has_hedge", "is_question", "refuses", "says_unknown"]

#: value: read plainly; hedged: read, but the resident was not sure; ambiguous: more than one reading;
#: question: a question back; unknown: an explicit "did not measure / cannot know"; none: nothing readable.
KINDS = ("value", "hedged", "ambiguous", "question", "unknown", "none")


@dataclass(frozen=True)
class Reading:
    """One reader's verdict on one reply."""

    kind: str
    value: Any = None

    @property
    def usable(self) -> bool:
        """True when a value was read (plainly or hedged)."""
        return self.kind in ("value", "hedged")


NONE = Reading("none")


def fold(text: str) -> str:
    """NFKC (full-width digits, letters and punctuation to ASCII), lower case, one space, curly quotes straight."""
    text = unicodedata.normalize("NFKC", text or "").lower().replace("’", "'").replace("‘", "'")
    text = re.sub(r"\s+", " ", text).strip()
    return re.sub(r"(?<=[\u4e00-\u9fff]) (?=[\u4e00-\u9fff])", "", text)  # "我 不 确定": speech spacing


_CLAUSE_SPLIT = re.compile(
    r"[,.;!~…、。;]+|\s+(?:but|though|although|however)\s+|但是|不过|可是|就是|只是|그런데|근데|하지만|지만\s"
)


def clauses(norm: str) -> list[str]:
    """A folded reply cut where a resident starts a new thought (punctuation, "but", 但是, 근데)."""
    return [c.strip() for c in _CLAUSE_SPLIT.split(norm) if c and c.strip()]


_QUESTION_WORDS = re.compile(
    r"(?<![不没])(?:有没有|是不是|对不对|要不要|会不会|算不算)|有无|是否|真的假的|啥(?![也都]没)|什么意思|为什么|干嘛|干什么|怎么了|(?<!过)谁(?![都也])|哪位"
    r"|(?<![不没])([\u4e00-\u9fff])[不没]\1(?![不没]?\1)"
    r"|\b(?:what|why|how|do i|did i|am i|should i|is it|what do you mean)\b"
    r"|뭐라고|무슨\s*뜻|왜요|뭐요|인가요|나요\?"
)
_QUESTION_END = re.compile(r"(?:\?|吗|呢\?)\s*$")


def is_question(norm: str) -> bool:
    """A question back at the bot ("有没有啊？", "do I have a cough?", "기침이요?")."""
    return bool(_QUESTION_WORDS.search(norm) or _QUESTION_END.search(norm))


_HEDGES = re.compile(
    r"大概|大约|差不多|左右|上下|估计|应该是|应该|可能|也许|好像|似乎|约莫|约|来着|(?<!放心)(?<!好)(?<!行)(?<!对)吧\s*$|多半"
    r"|\b(?:about|around|approx(?:imately)?|roughly|maybe|probably|perhaps|possibly|i think|i guess|i believe"
    r"|i suppose|guess|ish|or so|give or take|more or less|something like|kind of|kinda|sort of|likely)\b"
    r"|几乎|\balmost\b|거의|가능성|대요$|래요$|다더라|그러더라|아마|정도|쯤|것\s*같|거\s*같|듯|약\s|대략|대충|될\s*거|거예요|걸요|겠지|인가"
)


def has_hedge(norm: str) -> bool:
    """"大概", "左右", "maybe", "정도": the resident is not sure of what they said."""
    return bool(_HEDGES.search(norm))


_UNKNOWN = re.compile(
    r"没量|没测|没有量|没有测|没去量|没来得及量|还没量|忘了量|忘记量|没量过|不量|没体温计|没有体温计|没温度计|没有温度计"
    r"|家里没有?(?:体温计|温度计)|量不了|测不了"
    r"|\b(?:didn't|did not|haven't|have not|havent|didnt|not|never|forgot to|couldn't|could not)\s+"
    r"(?:yet\s+)?(?:measure|measured|check|checked|take|taken|took)\b"
    r"|\bno thermometer\b|\bdon't have a thermometer\b|\bdo not have a thermometer\b|\bnot measured\b"
    r"|안\s*쟀|안\s*재|못\s*쟀|못\s*재|안\s*측정|측정\s*안|체온계가?\s*없|체온계\s*없|온도계가?\s*없"
    r"|^(?:i )?(?:don't|do not) know$|^(?:not sure|dunno|no idea|idk)$|^不知道$|^모르겠어요$|^몰라요?$|^모릅니다$"
    r"|thermometer (?:is )?(?:broken|lost|ran out|died|dead)|(?:lost|broke|no|don't have a|do not have a|haven't got a)"
    r"\s+(?:our |my |a )?thermometer|haven't had time to (?:measure|check)|not yet today|no time to (?:measure|check)"
    r"|(?:没|木有|冇|莫得|未|没有)(?:有)?(?:量|测|探热)|没空量|没空测|体温(?:计|枪)(?:坏|打碎|找不到|没电|丢)|买不到体温计"
    r"|忘了(?:测|量|多少|看)|没看数|没看清|(?:没有|莫得|冇|没得)(?:体温计|温度计|体温枪)"
    r"|体温计坏了|温度计坏了|体温计找不到|没时间量|还没来得及|잴 시간이 없|체온계\s*고장|재지 않았|잴 줄 몰라|안 재 봤"
)


def says_unknown(norm: str) -> bool:
    """"没量", "didn't measure", "안 쟀어요": an explicit unknown (for questions that allow one)."""
    return bool(_UNKNOWN.search(norm))


_REFUSAL = re.compile(
    r"不想说|不想讲|不想回答|不告诉你|不告诉|无可奉告|不方便说|不方便讲|不方便接|没空|没时间|在忙|忙着呢|关你什么事|关你啥事|管得着|保密|隐私"
    r"|不是我本人|打错了|听不懂中文|不会说中文"
    r"|\b(?:not now|busy|no english|english no|none of your business|rather not|not telling|wrong number"
    r"|don't want to (?:say|answer|tell|talk)|do not want to (?:say|answer|tell)|won't (?:say|answer|tell)"
    r"|i don't speak|not your business|call (?:me )?later|later please)\b"
    r"|말하기 싫|말 안 할|말씀 못 드리겠|대답 안 할|대답하기 싫|바빠요|바쁩니다|나중에|잘못 거|영어로|중국어로|상관하지 마"
)


def refuses(norm: str) -> bool:
    """"不想说", "none of your business", "바빠요": a refusal or a "not now", never an answer."""
    return bool(_REFUSAL.search(norm))

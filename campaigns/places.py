"""Places residents name ("我从武汉回来的", "연길에서 왔어요", "望京花园3号楼2单元501"), read precision first.

A city-like answer (where from, where to) is stored when it names one place of the gazetteer (``gazetteer.yml``:
cities, provinces and countries in Chinese, pinyin, English and Korean); a place we do not know, or only a province
or a country, is confirmed first; two places, a vague one ("老家", "abroad", "시골") or no place at all is asked
again. An address (``detail: address``) needs a name and a number (building, flat).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import yaml

from campaigns.reading import NONE, Reading, fold, is_question, refuses

__all__ = ["GAZETTEER", "NON_ANSWER", "find_places", "read_place", "strip_place_framing"]

GAZETTEER = Path(__file__).with_name("gazetteer.yml")

NON_ANSWER = re.compile(
    r"^(?:不知道|不记得|记不清|忘了|忘记了|不清楚|不告诉你|保密|没有|没|无|不|是|对|嗯|有|好的?|ok|okay|yes|no|nope|idk"
    r"|dunno|don't know|not sure|no idea|none|nowhere|secret|네|예|아니요|아뇨|몰라요|모르겠어요|없어요)$"
    r"|不知道|不记得|记不清|忘了|不清楚|\bdon't know\b|\bdunno\b|\bno idea\b|\bcan't remember\b|모르겠|기억이 안|기억 안"
)


#: A place too vague to find anyone by ("外地", "老家", "abroad", "somewhere in the south", "a hotel"), or two
#: places ("上海或者苏州"): asked again.
_VAGUE_PLACE = re.compile(
    r"^(?:外地|老家|国外|乡下|农村|南方|北方|外省|外面|附近|家里|在家|家|酒店|宾馆|朋友家|亲戚家|医院|机场|火车站|单位|公司|到处|好几个地方"
    r"|几个地方|很多地方|一个小地方|一个小城市|一个城市|山里|海边|这里|这边|本地|本市|同上|和之前一样|一样|保密|不方便说|隐私)$"
    r"|某个|某地|附近的|的附近|好几个|几个地方|到处|一些地方|不说了|不想说|不方便|保密|隐私|没去哪|哪也没去|哪儿也没去|没有去哪"
    r"|或者|还是|要么|和.{1,6}都去|先.{1,8}再|然后又?去|\b(?:somewhere|abroad|hometown|countryside|seaside|mountains?|a few places"
    r"|several places|different places|all over|here and there|not telling|rather not|private|secret|the usual|same as|"
    r"i'll text|i will text|near (?:the|a|my)|a (?:small )?(?:city|town|village|hotel|place)|my (?:friend|relative|"
    r"parent|family)'?s?|the (?:north|south|east|west|airport|station|hospital|city cent(?:re|er))|up north|down south"
    r"|back east|out west|didn't go|did not go|nowhere|or|and before that|then)\b|^(?:home|at home|here|there|"
    r"my place|around|outside|out of town|out of the city|out of province)$|여기저기|몇 군데|시골|친척집|친구\s*집|병원|남쪽|북쪽"
    r"|비밀|어딘가|외국|해외|고향|하고\s|이랑|인가\s|아니면"
)
_NOT_PLACE = re.compile(r"\d+\s*(?:days?|天|일)|\bby (?:train|plane|car|bus)\b|坐(?:火车|飞机|高铁)|^(?:昨天|今天|yesterday|today)$")
_PLACE_HEDGE = re.compile(r"^(?:好像是|应该是|大概是|可能是|估计是|好像|应该|大概|可能|i think|maybe|probably|아마)\s*"
                          r"|\s*(?:吧|来着|i think|maybe|인 것 같아요|인 거 같아요|같아요)$")


_PLACE_BEFORE = re.compile(
    r"^(?:我|我们)?(?:是)?(?:从|来自|去了|去过|到了|到过|在|住在|住)\s*"
    r"|^(?:i|we)?\s*(?:came|come|am|'m|was|went|have been|travelled|traveled|stay(?:ed|ing)?|live)?\s*"
    r"(?:back\s+)?(?:from|to|in|at)\s+",
    re.IGNORECASE,
)
_PLACE_AFTER = re.compile(
    r"(?:回来的|回来|过来的|过来|来的|来|去的|的)$"
    r"|\s*(?:에서\s*(?:왔어요|왔습니다|왔음|왔다|온\s*거예요|와요|요)?|에\s*(?:다녀왔어요|다녀왔습니다|갔다\s*왔어요|갔었어요|갔어요"
    r"|있어요|살아요|삽니다|머물러요)|(?:이|)요|입니다|이에요|예요)$"
)


def strip_place_framing(text: str) -> str:
    """"我从武汉来的" -> "武汉", "I came back from Beijing" -> "Beijing"; an address stays whole.

    The whole answer is the value (an address must not be cut to a district); only the words that frame a
    place in speech are taken off, and never so much that nothing is left.
    """
    inner = _PLACE_AFTER.sub("", _PLACE_BEFORE.sub("", text, count=1)).strip()
    return inner if any(ch.isalnum() for ch in inner) else text




@lru_cache(maxsize=1)
def _names() -> tuple[re.Pattern[str], dict[str, tuple[int, str]]]:
    """One pattern for every name (longest first) and, per folded name, (place number, level)."""
    data = yaml.safe_load(GAZETTEER.read_text(encoding="utf-8"))
    index: dict[str, tuple[int, str]] = {}
    for number, place in enumerate(data["places"]):
        for name in place["names"]:
            index[_key(str(name))] = (number, place["level"])
    parts = []
    for name in sorted(index, key=len, reverse=True):
        esc = re.escape(name).replace(r"\ ", r"[\s'-]*")
        parts.append(rf"(?<![a-z]){esc}(?![a-z])" if name.isascii() else esc)
    return re.compile("|".join(parts)), index


def _key(name: str) -> str:
    return re.sub(r"[\s'-]+", " ", fold(name)).strip()


def find_places(text: str) -> list[tuple[int, str]]:
    """The gazetteer places named in ``text``, as (place number, level), in order, each once."""
    pattern, index = _names()
    found: list[tuple[int, str]] = []
    for m in pattern.finditer(fold(text)):
        place = index.get(_key(m.group(0)))
        if place is not None and place not in found:
            found.append(place)
    return found


_HAS_NUMBER = re.compile(r"\d|[一二三四五六七八九十百]+\s*(?:号|栋|楼|单元|室|层|幢|座)|[일이삼사오육칠팔구십백]+\s*(?:동|호|층)")
_UNIT_WORDS = re.compile(r"\b(?:building|bldg|block|room|rm|flat|apt|apartment|unit|floor|no|number|house)\b"
                         r"|号楼|号|楼|栋|幢|座|单元|室|层|门|동|호|층|번지")
_NAME_CHARS = re.compile(r"[\u4e00-\u9fff가-힣]{2,}|[a-z]{3,}")


def read_place(text: str, detail: str = "city") -> Reading:
    """A place as it should be stored (framing words taken off), or why it cannot be."""
    norm = fold(text)
    cleaned = re.sub(r"^[\s\W_]+|[\s\W_]+$", "", unicodedata_nfkc(text)).strip()
    if not cleaned or not re.search(r"[\u4e00-\u9fff가-힣]|[A-Za-z]{2,}", cleaned):
        return NONE  # empty, emoji, ㅋㅋ
    if NON_ANSWER.search(fold(cleaned)) or refuses(norm):
        return NONE
    if is_question(norm):
        return Reading("question")
    if _VAGUE_PLACE.search(fold(cleaned)) or _NOT_PLACE.search(fold(cleaned)):
        return Reading("ambiguous")
    hedged = bool(_PLACE_HEDGE.search(cleaned.lower()))
    if hedged:
        cleaned = _PLACE_HEDGE.sub("", cleaned).strip() or cleaned
    value = strip_place_framing(cleaned)
    places = find_places(value)
    if detail == "address":
        if not _HAS_NUMBER.search(fold(value)) or not _NAME_CHARS.search(_UNIT_WORDS.sub(" ", fold(_HAS_NUMBER.sub(" ", value)))):
            return Reading("ambiguous")  # "朝阳区", "3号楼": the full address is asked for
        return Reading("hedged" if hedged else "value", value)
    cities = {p for p in places if p[1] == "city"}
    if len(cities) > 1 or (not cities and len(places) > 1):
        return Reading("ambiguous")  # two places: which one?
    if not cities:
        return Reading("hedged", value)  # a province, a country, or a place we do not know: confirmed first
    return Reading("hedged" if hedged else "value", value)


def unicodedata_nfkc(text: str) -> str:
    import unicodedata

    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text or ""))

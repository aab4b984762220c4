"""The yes / no / not sure reader (zh, en, ko, with dialect and chat forms), precision first.

The first clause that answers decides ("没有咳嗽，就是有点累" is no). Yes-words and no-words in that clause, a later
clause that answers the other way ("有，哦不没有") or corrects it ("其实"), a question back ("有没有啊") or words that
could turn the meaning ("闻不到" to "can you smell?") make the reply ambiguous: it is asked again, never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from campaigns._yesno_words import (
    AGREE,
    ALL,
    EN_NO,
    EN_YES,
    EN_YES_VERB,
    FINE,
    KO_NO_VERB,
    KO_YES_VERB,
    NO,
    NOT_SURE,
    YES,
    ZH_YES_VERB,
)
from campaigns.reading import NONE, Reading, clauses, fold, has_hedge, is_question, refuses

__all__ = ["AGREE", "NO", "NOT_SURE", "YES", "read_yes_no"]

#: Words that read as yes-or-no only with the question's meaning: never taken as an answer on their own.
_TURNING = ("fine", "all good", "all fine", "better", "improving", "好多了", "好转", "好些了", "나아졌", "좋아졌", "不舒服", "难受", "不太好", "不好", "没问题", "没毛病", "不错", "no problem", "not bad", "no worries",
            "안 좋", "안좋", "별로")
_NEUTRAL = ("但是", "就是", "还是", "可是", "要是", "总是", "只是", "于是", "或是", "真是", "倒是", "所有", "还有",
            "对不起", "对方", "绝对", "不好意思", "有没有", "是不是", "好像", "没办法", "i know", "know", "听不清", "听不懂", "没听清")
#: A later clause that takes the answer back ("其实有", "actually yes", "아니 근데").
_CORRECTION = re.compile(r"其实|不对|哦不|噢不|说错|搞错|应该是|\bactually\b|\bi mean\b|\bwait\b|\bsorry\b|사실|아 아니")
#: V不到 / V不出 / V不了: "can't V": its polarity depends on the question ("闻不到" answers "can you smell?").
_POTENTIAL = re.compile(r"[\u4e00-\u9fff]不[到出了见清动着上]")
_PARTICLES = re.compile(r"[啊呀吧哦噢哈啦嘛的了呢\s]+$|^[哦噢嗯啊额呃\s]+")
#: Both at once: "yes and no", "有也没有", "时有时无", "있기도 하고 없기도".
_BOTH = re.compile(r"(?:^|[,.;!?]\s*)(?:yes|yeah|yep)[\s,/]*(?:and|or|but)?[\s,/]*no(?:\s*$|[,.;!?])"
                   r"|(?:^|[,.;!?]\s*)no[\s,/]*(?:and|or|but)?[\s,/]*(?:yes|yeah|yep)(?:\s*$|[,.;!?])|有也没有|有又没有|有时有|"
                   r"有时候有|时有时无|있었다\s*없었다|有时候没|也有也没|半有半无|一会有一会没|\bsometimes not\b|\bon and off\b|\boff and on\b"
                   r"|있기도 하고 없|있다가 없|있다 없다|\b(?:kind of|kinda|sort of|sorta)\b")
_KO_TURN = re.compile(r"(?:맛|냄새|향)[이가을를도은는]?\s*(?:잘\s*)?(?:안|못)|(?:안|못)\s*(?:느껴|맡)")


def _alternation(words: tuple[str, ...]) -> str:
    parts: list[str] = []
    for w in sorted({fold(w) for w in words}, key=len, reverse=True):
        esc = re.escape(w).replace(r"\ ", r"\s*")
        parts.append(rf"(?<![a-z']){esc}(?![a-z'])" if w.isascii() else esc)
    return "|".join(parts)


_EXTRA = {"no": f"{KO_NO_VERB}|{EN_NO}", "yes": EN_YES,
          "symptom": f"{KO_YES_VERB}|{ZH_YES_VERB}|{EN_YES_VERB}"}
_TOKENS = re.compile(
    "|".join(f"(?P<{name}>{'|'.join(p for p in (_alternation(words), _EXTRA.get(name, '')) if p)})"
             for name, words in (("neutral", _NEUTRAL), ("turn", _TURNING), ("unsure", NOT_SURE), ("agree", AGREE),
                                 ("no", NO), ("yes", YES), ("symptom", ())))
)


_UNSURE = re.compile(_alternation(NOT_SURE))


def _signals(clause: str, confirming: bool) -> list[str]:
    """The answer words of a clause, in order. A no-word joined to a yes-word is one negated verb ("没出去过",
    "不咳"); agreement ("嗯", "好") is a yes only to a confirmation, and alone it is no answer to a question."""
    found: list[str] = []
    last_end, last_kind = -1, ""
    for m in _TOKENS.finditer(clause):
        kind = m.lastgroup or ""
        if kind == "agree":
            kind = "yes" if confirming else "agree"
        gap = clause[last_end:m.start()] if last_end >= 0 else "x"
        if kind in ("yes", "symptom") and last_kind == "no" and (gap == "" or (gap.isspace() and clause[m.start()].isascii())):
            last_end = m.end()
            continue
        if kind != "neutral":
            found.append(kind)
        last_end, last_kind = m.end(), kind
    answers = [k for k in found if k != "agree"]
    if "symptom" in answers:
        # "嗓子疼", "有点痛": a yes; "没有喉咙痛": the no covers the symptom; "喘气没问题": unclear
        first = answers.index("symptom")
        if set(answers) <= {"symptom", "yes"}:
            answers = ["yes"]
        elif answers[0] == "no" and "no" in answers[:first] and "yes" not in answers and "turn" not in answers:
            answers = ["no"]
        elif answers[-1] == "no" and set(answers) == {"symptom", "no"} and answers.count("no") == 1:
            answers = ["no"]  # the no said last: "목 아픈 건 없어요", "sore throat no"
        else:
            answers = ["turn", *answers]
    return answers if answers or not found else ["turn"]


_FILLER = re.compile(
    r"我们|我|都|也|就|还|了|的|啊|呀|吧|呢|哦|噢|嘛|啦|哈|嗯|额|呃|那个|今天|最近|现在|目前|暂时|真的|完全|身体|谢谢|您|你|呵呵|哈哈"
    r"|一点|一点儿|任何|什么|过|一直|从来|好|这两天|这几天|家里人|全家|家里"
    r"|\b(?:i|i'm|im|am|have|has|had|do|does|did|it|a|an|the|my|me|any|at|all|really|just|right|now|today"
    r"|currently|yet|thanks|thank|you|so|well|um|uh|oh|sir|madam|ma'am|got|been|there|is|are|was|were|feel"
    r"|feeling|symptoms?|like|that|this|of|to|and|or|lately|recently|still|too|either|actually|totally|anything"
    r"|thx|ty|pls|please|lol|haha|nothing|mate|dear|for|asking|not|no|yes)\b"
    r"|good (?:morning|afternoon|evening|day)|hello|hi|hey|dear|thank you for (?:calling|asking|checking)[a-z ]*"
    r"|您好|你好|喂|谢谢关心|感谢|안녕하세요|여보세요"
    r"|嗓子|喉咙|咽喉|胸口|鼻子|呼吸|喘气|味觉|嗅觉|味道|气味|体温|可能|也许|好像|应该|大概|估计|有点|有些|一些"
    r"|\b(?:throat|chest|nose|breathing|breath|taste|smell|maybe|probably|think|guess|little|bit|slightly)\b"
    r"|목이|목은|목|가슴|코가|코|숨이|숨|맛이|냄새가|아마|약간|조금"
    r"|저는|저|제가|지금|오늘|요즘|전혀|하나도|좀|감사합니다|고맙습니다|그런|거|것|은|는|이|가|을|를|도|요|예|네|다|고"
)
_CJK_CHAR = re.compile(r"[\u4e00-\u9fff]")
_HANGUL_CHAR = re.compile(r"[가-힣]")
_LATIN_WORD = re.compile(r"[a-z']+")


def _echo_words(echo: Iterable[str]) -> list[str]:
    """Words of the question that a reply may repeat ("没有咳嗽", "no cough", "기침 없어요")."""
    words: set[str] = set()
    for text in echo:
        norm = fold(text)
        for run in re.findall(r"[\u4e00-\u9fff]+|[가-힣]+", norm):
            words.update(run[i:i + n] for n in (2, 3, 4) for i in range(len(run) - n + 1))
        words.update(w for w in _LATIN_WORD.findall(norm) if len(w) > 2)
    return sorted(words, key=len, reverse=True)


def _simple(clause: str, echo: list[str], lenient: bool = False) -> bool:
    """True when the clause says little besides its yes / no (and the question's own words); ``lenient`` when
    the clause opens with its answer ("아니요 목은 멀쩡합니다"), which leaves room for a few more words."""
    rest = _TOKENS.sub(" ", clause)
    for word in echo:
        if word in rest:
            rest = rest.replace(word, " ")
    rest = _FILLER.sub(" ", rest)
    extra = 2 if lenient else 0
    return (len(_CJK_CHAR.findall(rest)) <= 1 + extra and len(_HANGUL_CHAR.findall(rest)) <= 2 + extra
            and len(_LATIN_WORD.findall(rest)) <= 1 + extra)


_NEGATIVE_FRAME = re.compile(r"没|不|无|未|\bno\b|\bnot\b|n't|없|않|못|(?<![가-힣])안\s")
#: A-not-A questions and "say yes or no" instructions are no negative framing.
_NOT_A_NEGATION = re.compile(
    r"有没有|是不是|对不对|需不需要|要不要|不确定|不知道|[^，。？,.?]*请说[^，。？,.?]*|not sure|say (?:yes|no)[^.?]*"
    r"|you can say[^.?]*|모르겠|[^.?]*말씀해 주세요|[^.?]*대답해 주세요|있습니까"
)


def negative_question(echo: Iterable[str]) -> bool:
    """A question framed with a negation ("有没有尝不出味道", "…with no fever?", "잘 못 느낍니까?"): an answer that
    describes ("吃东西没什么味道") turns its yes and no, so only a plain yes or no is taken."""
    return any(_NEGATIVE_FRAME.search(_NOT_A_NEGATION.sub(" ", fold(text))) for text in echo)


#: To a negatively framed question only answers about the whole statement are safe: 是 / 不是, yes / correct, 네 /
#: 아니요 (English "no" could mean either); 有 / 没有 also when the question asks 有没有.
_PLAIN = {"yes": ("是", "是的", "对", "对的", "没错", "yes", "yeah", "yep", "correct", "that's right", "네", "예", "맞아요",
                  "맞습니다", "맞아"),
          "no": ("不是", "不对", "不是的", "no", "nope", "아니요", "아니오", "아뇨", "아니에요", "아닙니다")}
_PLAIN_A_NOT_A = {"yes": ("有", "有的", "有啊"), "no": ("没有", "没", "没有的", "木有", "没得")}
_LEADING = re.compile(r"^(?:都|我|我们|也|真的|确实|嗯|哦|呃|额|well|um|uh|저는|저)[\s,]*")
_TRAILING = re.compile(r"[\s啊呀吧的了哦呢嘛~!.。]+$")


_KO_EXISTENCE = {"yes": ("있어요", "있음", "있습니다", "있어", "있슴다"), "no": ("없어요", "없음", "없습니다", "없어", "없슴다",
                                                                      "없슴니다", "없어오")}
_PARTICLE_ANSWERS = {"yes": ("네", "넹", "넵", "예", "응", "ㅇㅇ", "yes", "yeah", "yep"),
                     "no": ("아니", "아니요", "아니오", "아뇨", "ㄴㄴ")}


def _plain_answer(parts: list[str], echo: Iterable[str]) -> Reading:
    """To a negatively framed question: the reply is only answer words, all of one kind (是 / 不是, 네 네, 没有没有);
    to an A-not-A one (有没有尝不出味道？) a plain first answer may be followed by words that do not answer again."""
    if len(parts) > 1:
        later = [k for c in parts[1:] for k in _signals(c, False)]
        if later or not any("有没有" in fold(t) for t in echo):
            return Reading("ambiguous")
    reply = _LEADING.sub("", _TRAILING.sub("", parts[0]))
    if len(parts) > 1 and " " in reply:
        return Reading("ambiguous")
    frame = " ".join(fold(t) for t in echo)
    allowed = {value: {fold(w) for w in (*_PLAIN[value], *_PARTICLE_ANSWERS[value])} for value in ("yes", "no")}
    if "有没有" in frame:  # "有没有尝不出味道？": 有 / 没有 answer the question itself
        for value in ("yes", "no"):
            allowed[value] |= {fold(w) for w in _PLAIN_A_NOT_A[value]} | {fold(w) for w in NO if value == "no"
                                                                         and len(w) <= 2 and not w.isascii()}
    if "없" not in frame:  # "잘 못 느낍니까?": 없어요 is "no such trouble"; to "…증상이 없습니까?" it is unclear
        for value in ("yes", "no"):
            allowed[value] |= {fold(w) for w in _KO_EXISTENCE[value]}
    words = [m.group(0) for m in _TOKENS.finditer(reply)]
    if words and _TOKENS.sub("", reply).strip() == "":
        for value in ("yes", "no"):
            if all(w in allowed[value] for w in words):
                return Reading("value", value)
    if "有没有" in frame and FINE.fullmatch(reply):
        return Reading("value", "no")
    return Reading("ambiguous")


#: A reply that opens with a plain answer word, then says more: "네 어제부터 목이 부었어요", "No, my throat is fine".
_OPENER = re.compile(
    r"^(?:(?P<yes>네|예|응|넹|넵|yes|yeah|yep|yup|是的|是|对的|对|有的|有)|(?P<no>아니요|아니오|아뇨|no|nope|nah|没有|没|不是|不))"
    r"(?:[\s,，.。!！]+|$)"
)


def _bare(clause: str) -> str | None:
    """"yes" / "no" when the clause is nothing but answer words of one kind ("没有啊", "no no"), else None."""
    bare = _PARTICLES.sub("", clause).strip()
    if not bare or _TOKENS.sub("", bare).strip():
        return None
    kinds = {m.lastgroup for m in _TOKENS.finditer(bare)} - {"neutral"}
    return kinds.pop() if kinds in ({"yes"}, {"no"}) else None


def read_yes_no(text: str, *, confirming: bool = False, echo: Iterable[str] = (), frame: str = "") -> Reading:
    """Yes / no / not sure from a reply; ``confirming`` when it answers "…, is that right?".

    ``echo`` holds the question's own texts: a reply may repeat their words ("没有咳嗽"); any other content in the
    answering clause ("吃东西没什么味道", "my husband did") may turn its meaning, so it is asked again. ``frame`` is
    the question as the resident heard it: when it is framed with a negation, only a plain answer is taken.
    """
    echo = tuple(echo)
    norm = fold(text)
    if not norm:
        return NONE
    parts = clauses(norm)
    bare_first = bool(parts) and _bare(parts[0]) is not None and not is_question(parts[0])
    if _BOTH.search(norm) or refuses(norm):
        return Reading("ambiguous")
    if re.search(r"what (?:you mean|counts|do you mean)|understand|什么意思|啥意思|听不清|没听清|무슨 뜻|이해", norm):
        return Reading("question")  # "not sure what you mean": the question, not the answer, is unclear
    if _UNSURE.search(norm) and not norm.rstrip().endswith("?"):  # "不知道算不算接触": unsure, not a question
        return Reading("value", "not_sure")
    if is_question(norm) and not bare_first:  # "有没有啊？" (but "no, why?" answers first)
        return Reading("question")
    answered: list[tuple[str, list[str]]] = []
    agreeing = False
    for clause in clauses(norm):
        signals = _signals(clause, confirming)
        if signals == ["turn"] and not confirming and _TOKENS.fullmatch(_PARTICLES.sub("", clause)) and \
                re.fullmatch(_alternation(AGREE), _PARTICLES.sub("", clause)):
            agreeing = True  # "嗯，有": the 嗯 only leads in
            continue
        if signals:
            answered.append((clause, signals))
    bares = {_bare(clause) for clause, _ in answered} - {None}
    if len(bares) == 1 and not any(set(sig) & ({"yes", "no"} - bares) for _, sig in answered) and \
            not negative_question([frame]) and not confirming and not _CORRECTION.search(norm):
        return Reading("hedged" if has_hedge(norm) else "value", bares.pop())  # "两周都没出门，没有"
    if not answered and agreeing:
        return Reading("ambiguous")
    echo_words = _echo_words(echo)
    negative = negative_question([frame])
    if not negative and len(parts) == 1 and set(_signals(parts[0], confirming)) <= {"turn"} and FINE.search(parts[0]) \
            and (any(w in parts[0] for w in echo_words) or ALL.search(parts[0])):
        return Reading("value", "no")  # "嗓子挺好的", "breathing is normal", "all fine"
    if not answered:
        return NONE
    first_clause, first = answered[0]
    if clauses(norm)[0] != first_clause and not _simple(clauses(norm)[0], echo_words):
        return Reading("ambiguous")  # something else was said before the answer ("都做了，都没有症状")
    before = clauses(norm)[:clauses(norm).index(first_clause)]
    leading = _TOKENS.match(first_clause) is not None and all(_simple(c, echo_words) for c in before)
    opener = _OPENER.match(norm)
    if opener and not negative and not confirming and not _CORRECTION.search(norm):
        said = "yes" if opener["yes"] else "no"
        every = [k for c in parts for k in _signals(c, False)][1:]
        if ("yes" if said == "no" else "no") not in every and "turn" not in every:
            return Reading("hedged" if has_hedge(norm) else "value", said)  # "네 어제부터 목이 부었어요"
    if not confirming and negative:
        return _plain_answer(parts, [frame])
    if not confirming and not _simple(first_clause, echo_words, lenient=leading):
        return Reading("ambiguous")  # "不想说", "no english", "I don't want to say": no answer to the question
    turning = "turn" in first or _POTENTIAL.search(first_clause) or _KO_TURN.search(first_clause)
    if turning and (first[0] not in ("yes", "no") or len(first) == 1):
        return Reading("ambiguous")
    polarity = first[0] if first[0] in ("yes", "no") else None
    if polarity is None:
        return Reading("ambiguous")
    later = norm[norm.find(first_clause) + len(first_clause):]
    if _CORRECTION.search(later):
        return Reading("ambiguous")
    opposite = "no" if polarity == "yes" else "yes"
    if leading and opposite in first[1:]:
        return Reading("ambiguous")  # "네, 없습니다", "no, I have a cough": which one is meant?
    for clause, signals in answered[1:]:
        bare = _TOKENS.sub("", _PARTICLES.sub("", clause)).strip() == ""
        about_it = bare or any(w in clause for w in echo_words if len(w) > 1)
        symptom = bool(re.search(_EXTRA["symptom"], clause)) and polarity == "no"
        if opposite in signals and (about_it or symptom):  # "有，没有", "no, I have a cough", "no…but my chest is tight"
            return Reading("ambiguous")
    return Reading("hedged" if has_hedge(norm) else "value", polarity)

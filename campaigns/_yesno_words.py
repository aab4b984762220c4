"""The words of yes, no, not sure and agreement, in Chinese (with dialect and chat forms), English and Korean.

Read by ``campaigns._yesno``; the voice grammar lists its phrases from them (``campaigns.normalize.YES_WORDS``).
"""

from __future__ import annotations

import re

__all__ = ["AGREE", "ALL", "EN_NO", "EN_YES", "EN_YES_VERB", "FINE", "KO_NO_VERB", "KO_YES_VERB", "NO", "NOT_SURE", "SPOKEN",
           "YES", "ZH_YES_VERB"]

NOT_SURE = (
    "不知道", "不确定", "说不清", "说不好", "说不准", "不清楚", "不记得", "记不清", "记不得", "不太清楚", "不好说",
    "不晓得", "唔知", "晓不得", "搞不清", "拿不准", "不敢肯定", "没法确定", "无法确定",
    "not sure", "don't know", "dont know", "do not know", "dunno", "idk", "no idea", "unsure", "not certain",
    "can't remember", "cannot remember", "can't say", "hard to say", "don't remember", "not that i know",
    "maybe", "perhaps", "possibly", "who knows", "no clue", "don't really know", "do not really know",
    "not really know", "could be", "beats me", "uncertain", "unknown", "unclear", "can't tell", "cannot tell",
    "can't know", "cannot know", "can't rule", "cannot rule", "it's possible", "没办法确定", "没法确定", "唔确定", "唔知道",
    "不晓得", "搞不清楚", "不好讲", "谁知道", "哪知道", "确定不了", "不太好说", "搞唔清楚", "唔清楚", "拿不准", "알 수 없", "모릅니다", "모르죠", "no sure", "not know", "dont no", "don't no",
    "not really sure", "not 100% sure", "not totally sure", "might have", "might've", "may have", "no way of knowing",
    "not that i'm aware", "not that i am aware", "can't be sure", "cannot be sure", "没法说", "难说", "不太确定", "不大确定",
    "不是很确定", "不敢说", "不肯定", "不敢确定", "不能确定", "확신이 없", "확신 없", "알 수가 없", "也许吧", "说不定", "모르겟", "모르갰", "불확실", "알 길이 없", "모르지요", "말씀 못 드리", "확실하지는 않", "확실하지가 않", "어떻게 알아요",
    "있을 수도 있고 없을 수도", "잘 몰라", "알 수 없", "확실히 모르",
    "모르겠", "몰라", "모름", "잘 모르", "글쎄", "확실하지 않", "확실치 않", "기억이 안", "기억 안",
)
NO = (
    "没有", "没得", "莫得", "木有", "冇", "没呢", "没啊", "没事", "没啥", "没", "沒", "无", "無", "否", "唔系", "唔是",
    "不是", "不对", "不会", "不用", "不需要", "不要", "不", "没收到", "还好", "还行", "挺好", "很好", "都好", "好着呢", "好好的", "正常", "一切正常",
    "都正常", "没什么", "没感觉", "毫无", "并无",
    "nobody", "no one", "no need", "no need help", "don't need", "do not need", "no", "nope", "nopes", "nah", "naw", "nay", "nein", "n", "not", "zero", "nowhere", "never", "none", "nothing", "negative", "haven't", "havent",
    "hasn't", "don't", "dont", "didn't", "didnt", "doesn't", "not really", "not at all", "no way", "i'm fine",
    "i do not", "i did not", "i have not", "i have no", "i haven't", "i've not", "definitely not", "have not",
    "do not", "did not", "has not", "certainly not", "absolutely not", "of course not", "no no", "nope nope",
    "not me", "no sir", "no ma'am", "none at all", "i don't", "i dont", "i didn't", "i didnt", "not one bit",
    "im fine", "i am fine", "all good", "i'm good", "im good", "i am good", "i'm ok", "im ok", "i'm okay",
    "feeling fine", "feel fine", "i feel fine", "i'm well", "nil",
    "아니", "아니요", "아니오", "아뇨", "아녀", "아니에요", "아닙니다", "없어", "없어요", "없습니다", "없음", "없다",
    "없었", "없고", "없네", "ㄴㄴ", "괜찮", "멀쩡", "안 했", "안했", "안 갔", "안갔", "안 나갔", "안 해",
    "전혀", "없슴다", "없슴니다", "없심다", "일없슴다", "일없어요", "일없소", "일없", "아이요", "아이오", "아이다", "업어요",
    "앖어요", "없어여", "노노", "안 아파", "안아파", "안 나요", "안나요", "안 해요", "안해요", "안 합니다", "안함",
    "哪有", "哪里有", "是没有", "未", "未曾", "从未", "从来没", "필요 없", "필요없", "唔", "唔使", "唔洗", "不用了", "一声都没", "不咳", "不疼", "不痛", "没去", "没出去", "没离开", "没出过",
)
YES = (
    "有", "是", "是的", "对", "對", "对的", "嗯", "嗯嗯", "恩", "系", "有的", "有点", "有一点", "有些", "有啊",
    "去过", "出去过", "离开过", "去了", "出去了", "当然", "肯定有", "确实", "需要", "要", "要的", "要滴",
    "yes", "yeah", "yea", "yep", "yup", "ya", "yah", "yas", "ye", "y", "aye", "correct", "right",
    "true", "affirmative", "of course", "i do", "i have", "i did", "a little", "a bit",
    "slightly", "a little bit", "little bit", "tiny bit", "a tiny bit", "sometimes", "yes i do", "have", "did", "do",
    "네", "넹", "넵", "예", "응", "웅", "ㅇㅇ", "있어", "있어요", "있습니다", "있음", "있다", "있었", "있고",
    "있네", "맞아", "맞아요", "맞습니다", "조금", "약간", "좀 있", "다녀왔", "갔다 왔", "갔다왔",
    "있슴다", "있심다", "옙", "예예", "yess", "yesss", "yeah yeah", "yes yes", "yep yep",
)
#: Said to "you said 37.5, is that right?": agreement (these are no answer to "do you have a cough?").
AGREE = ("收到", "嗯", "嗯嗯", "恩", "sure", "그래", "그래요", "好", "好的", "行", "可以", "没错", "没问题", "是啊", "对啊", "ok", "okay", "alright", "yes that's right",
         "that's right", "exactly", "좋아요", "그렇습니다", "오케이")
#: "嗓子挺好的", "breathing is normal", "throat no problem": the question's own thing said to be fine is a no.
ALL = re.compile(r"\b(?:all|both|everything|everything's)\b|都|全|一切|다\s|모두")
FINE = re.compile(r"\b(?:fine|ok|okay|normal|good|alright|all right|no problem|no problems|perfect|great|clear)\b"
                   r"|挺好|很好|好着|正常|没问题|没毛病|好好的|괜찮|정상|멀쩡")


#: Whole short answers as people say them on the phone: the voice grammar's yes / no / not sure phrases (a grammar of
#: every chat form would let the recogniser pick fragments such as "있고").
SPOKEN = {
    "yes": ("有", "是", "对", "對", "需要", "是的", "有的", "yes", "yeah", "yep", "sure", "correct", "i do", "i have",
            "네", "예", "응", "있어", "있어요", "있습니다", "맞아", "맞아요", "맞습니다"),
    "no": ("没", "沒", "没有", "无", "不", "否", "不是", "不需要", "no", "nope", "not", "never", "none", "i don't",
           "아니", "아니요", "아니오", "아뇨", "없어요", "없습니다", "아이오"),
    "not_sure": ("不知道", "不确定", "说不清", "不清楚", "不记得", "not sure", "don't know", "no idea", "unsure",
                 "모르겠어요", "몰라요", "잘 모르겠어요"),
}


#: Korean verb answers: "안 아팠어요", "숨 안 찼어요" (안 + verb) are a no; "아팠어요", "기침이 나요" a yes.
KO_NO_VERB = (r"(?<![가-힣])안\s*(?!녕|내|심|부|전|에|쪽|경|과|들려)[가-힣]{1,5}(?![가-힣])|[가-힣]{1,3}지\s*않|(?<![가-힣])없[가-힣]{0,4}|업서요|업어요|엄어요"
               r"|없써요|앖어요|ㄴ\s+ㄴ|해당\s*(?:사항)?\s*없|아니[에었]?[요다]?")
KO_YES_VERB = (r"아파요|아팠어|아픕니다|아픔|아프고|아픈|힘들어|힘들었|힘듭니다|힘든|숨차|숨이\s*(?:좀\s*)?차|숨이\s*찼|찼어요"
                r"|답답해|기침이?\s*(?:좀\s*)?나|기침을?\s*(?:좀\s*)?해|기침했|기침을?\s*(?:좀\s*)?했|필요해|필요합니다|필요했"
                r"|칼칼|따끔|가빠|헐떡|부었|부어|막혀|막히|콜록|쿨럭|가래"
                r"|확진(?:됐|되었|판정|나왔|자였|자인|자예요|이에요|인데)|접촉했|만났|밀접\s*접촉자|의심\s*환자(?:로|예요|인데|이에요)"
                r"|(?<![가-힣])있[가-힣]{0,3}")
#: A symptom said as such ("嗓子疼", "喘不上气", "胸闷", "咳了几声"); "不疼" is a no (a no-word joined to it).
ZH_YES_VERB = (r"疼|痛|喘|胸闷|闷得慌|咳了|咳得|咳几声|一直咳|老咳|发烧|烧了|接触过|接触了|接触到|碰到过|确诊了|阳了|阳性|是密接|密接"
                r"|出去过|出门了|去了趟|回了趟")
EN_YES_VERB = (r"\bcough(?:ing|ed|s)?\b|\bhurts?\b|\bsore\b|\bscratchy\b|\bshort of breath\b|\bout of breath\b"
                r"|\bwinded\b|\bwheez\w*|\bcan'?t (?:breathe|taste|smell)\b|\blost my (?:taste|smell|sense)\b"
                r"|\b(?:chest is|chest feels) tight\b|\btight chest\b|\bchest tight\b"
                r"|\bneeds?\b(?! to)|\bplease help\b|\bhelp me\b|\bcould (?:someone|you)\b|\bbring me\b|\brunning out\b"
                r"|\bwent to\b|\bbeen to\b|\btrip to\b|\bcame back from\b|\bvisited\b"
                r"|\bconfirmed case\b|\bis confirmed\b|\bwas confirmed\b|\btested positive\b|\bclose contact\b|\bsuspected\b")
EN_NO = r"\bno+o\b|\bna+h*\b|\bnope+\b|\bnooo+pe\b"
EN_YES = r"\bye+s+\b|\byea+h*\b|\buh[- ]?huh\b|\bmhm+\b|\byup+\b"

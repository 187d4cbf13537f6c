"""Texts in several scripts for measuring token counters (written for these tests)."""

# ruff: noqa: RUF001

from __future__ import annotations

ENGLISH = (
    "The support team answered every ticket within a day, and the customers noticed. "
    "When a parcel went missing, the agent checked the tracking number, called the courier "
    "and sent a replacement before the customer had to ask twice."
)

LONG_ENGLISH = " ".join(
    [
        "Internationalization requires understanding the characteristics of every locale: "
        "pluralization rules, bidirectional typography, calendar conventions, and the "
        "representation of currencies.",
        "Administrators responsible for infrastructure documentation frequently underestimate "
        "the maintenance burden of configuration management across heterogeneous environments.",
        "Notwithstanding these considerations, the committee recommended comprehensive "
        "reorganization of the interdepartmental communication procedures.",
    ]
    * 40
)

CODE = '''def total(orders: list[dict[str, float]]) -> float:
    """Sum the order amounts, skipping refunds."""
    result = 0.0
    for order in orders:
        if order.get("status") != "refunded":
            result += order["amount"] * (1 - order.get("discount", 0))
    return round(result, 2)
'''

RUSSIAN = (
    "Служба поддержки ответила на каждое обращение в течение суток, и клиенты это заметили. "
    "Когда посылка потерялась, оператор проверил трек-номер, позвонил в курьерскую службу и "
    "отправил замену, прежде чем клиенту пришлось спрашивать повторно."
)

AMHARIC = (
    "የድጋፍ ቡድኑ እያንዳንዱን ጥያቄ በአንድ ቀን ውስጥ መለሰ፣ ደንበኞቹም አስተዋሉ። "
    "እሽጉ በጠፋ ጊዜ ሰራተኛው የመከታተያ ቁጥሩን አረጋገጠ፣ ለመልእክተኛው ደወለ እና ምትክ ላከ።"
)

CHINESE = (
    "客服团队在一天之内回复了每一个工单，客户们都注意到了。包裹丢失时，客服查询了运单号，"
    "联系了快递公司，并在客户再次询问之前寄出了替换品。"
)

ARABIC = (
    "أجاب فريق الدعم على كل طلب خلال يوم واحد، ولاحظ العملاء ذلك. عندما فُقد الطرد، تحقق "
    "الموظف من رقم التتبع واتصل بشركة الشحن وأرسل بديلاً قبل أن يضطر العميل إلى السؤال مرة أخرى."
)

HINDI = (
    "सहायता टीम ने हर अनुरोध का जवाब एक दिन के भीतर दिया, और ग्राहकों ने इस पर ध्यान दिया। "
    "जब पार्सल खो गया, तो कर्मचारी ने ट्रैकिंग नंबर जाँचा, कूरियर को फ़ोन किया और बदले में नया सामान भेजा।"
)

#: name -> text, the texts the estimate's error band is measured on.
TEXTS = {
    "english": ENGLISH,
    "long_english": LONG_ENGLISH,
    "code": CODE,
    "russian": RUSSIAN,
    "amharic": AMHARIC,
    "chinese": CHINESE,
    "arabic": ARABIC,
    "hindi": HINDI,
}
